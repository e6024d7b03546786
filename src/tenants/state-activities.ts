/**
 * What an erasure asks about its tenant, on the workflow queue (it spends no Comeet budget): whether
 * it is still paused. Kept apart from the Comeet activities, which run on the tenant's capped queue.
 */
import type { TenantDirectory } from './directory.js';
import { DEFAULT_TENANT_ID } from './model.js';

export function createTenantStateActivities(directory: TenantDirectory) {
  return {
    async tenantPaused(input: { tenant: string }): Promise<boolean> {
      if (input?.tenant === DEFAULT_TENANT_ID) return false;
      return directory.isPaused(input.tenant);
    },
  };
}

export type TenantStateActivities = ReturnType<typeof createTenantStateActivities>;
