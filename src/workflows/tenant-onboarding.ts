/**
 * One customer's onboarding (seed 000), durable: sandbox credentials → sandbox check (writes, on the
 * sandbox account) → production key → read-only check → live; pausable, and offboarded at the end.
 * Operators drive it with updates whose validators refuse a step out of order at once. The state
 * holds credentials only as sealed blobs, and the status query never returns them.
 */
import {
  allHandlersFinished,
  condition,
  continueAsNew,
  defineQuery,
  defineUpdate,
  patched,
  proxyActivities,
  setHandler,
  setWorkflowOptions,
  sleep,
  upsertMemo,
  workflowInfo,
  ActivityFailure,
  ApplicationFailure,
} from '@temporalio/workflow';
import { isUnencrypted, NOT_ENCRYPTED } from '../codec/unencrypted.js';
import { comeetTaskQueue } from '../task-queues.js';
import type { TenantActivities } from '../tenants/activities.js';
import {
  isTenantId,
  newTenantState,
  stillMissing,
  tenantStateMemo,
  TENANT_ACCESS_TTL_MS,
  TENANT_ID_RULE,
  type ActorRequest,
  type CarriedState,
  type CheckSummary,
  type OnboardingState,
  type SealedCredentials,
  type SetCredentialsRequest,
  type StepAnswer,
  type TenantEvent,
  type TenantAccess,
  type TenantOnboardingInput,
  type TenantStatus,
  type ValidateSandboxRequest,
} from '../tenants/model.js';

export const tenantStatusQuery = defineQuery<TenantStatus>('status');
/**
 * What a worker needs to call the tenant's account: its step and settings, and the credentials still
 * sealed (only workers hold DSAR_CREDENTIALS_KEY, so this answer is opaque to the UI and the codec server).
 */
export const tenantAccessQuery = defineQuery<TenantAccess>('workerAccess');
export const setSandboxCredentialsUpdate = defineUpdate<StepAnswer, [SetCredentialsRequest]>('setSandboxCredentials');
export const validateSandboxUpdate = defineUpdate<StepAnswer, [ValidateSandboxRequest]>('validateSandbox');
export const setProductionKeyUpdate = defineUpdate<StepAnswer, [SetCredentialsRequest]>('setProductionKey');
/** Runs the read-only production check and, if it passes, makes the tenant live. */
export const goLiveUpdate = defineUpdate<StepAnswer, [ActorRequest]>('goLive');
export const pauseUpdate = defineUpdate<StepAnswer, [ActorRequest]>('pause');
export const resumeUpdate = defineUpdate<StepAnswer, [ActorRequest]>('resume');
export const offboardUpdate = defineUpdate<StepAnswer, [ActorRequest]>('offboard');

const MAX_EVENTS = 100;
/** The pause answers once every worker has dropped the state it kept from before (plus a margin for the query's round trip). */
const PAUSE_SETTLE_MS = TENANT_ACCESS_TTL_MS + 500;
/** Validation is one check at a time per tenant, and never ahead of erasures on the Comeet budget. */
const VALIDATION_PRIORITY = 5;

// A tenant lives for years: it runs on whatever build is current (continue-as-new keeps history short).
setWorkflowOptions(() => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: 'AUTO_UPGRADE' as const } : {}), tenantOnboarding);

/** Checks spend the tenant's own budget, on its own queue (tenants added before it checked on the shared one). */
const OWN_QUEUE_PATCH = 'tenant-checks-on-own-queue';
/** The run keeps its state in its memo (tenants started before it answer only their status query). */
const STATE_MEMO_PATCH = 'tenant-state-in-memo';

/** Upserts the memo whenever it changes from the one the run has (set at its start), in the task that changed it. */
async function publish(current: () => Record<string, unknown>): Promise<never> {
  const has = workflowInfo().memo ?? {};
  let published = JSON.stringify(Object.fromEntries(Object.keys(current()).map((k) => [k, has[k]])));
  for (;;) {
    await condition(() => JSON.stringify(current()) !== published);
    const memo = current();
    upsertMemo(memo);
    published = JSON.stringify(memo);
  }
}

function validationActivities(sandbox: boolean, tenantId: string) {
  return proxyActivities<TenantActivities>({
    taskQueue: patched(OWN_QUEUE_PATCH) ? comeetTaskQueue(workflowInfo().taskQueue, tenantId) : comeetTaskQueue(workflowInfo().taskQueue),
    startToCloseTimeout: '10 minutes',
    priority: { priorityKey: VALIDATION_PRIORITY },
    // The sandbox check creates a candidate: a blind retry would create another. Its answer says
    // what to fix; the operator re-runs it. The doctor only reads, so it may retry a lost answer.
    retry: sandbox ? { maximumAttempts: 1 } : { maximumAttempts: 3, initialInterval: '2 seconds' },
  });
}

function sealedOk(c: unknown): c is SealedCredentials {
  const s = c as SealedCredentials | undefined;
  return typeof s?.keyId === 'string' && typeof s.sealed === 'string' && s.sealed.startsWith('dsarcred.v1.') && s.sealed.length < 4096;
}

function actorOf(req: { actor?: unknown } | undefined): string {
  const a = req?.actor;
  return typeof a === 'string' && a.trim() ? a.trim().slice(0, 64) : 'unknown';
}

function failureText(err: unknown): string {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof Error ? cause.message : String(cause);
}

export async function tenantOnboarding(input: TenantOnboardingInput): Promise<{ step: OnboardingState }> {
  if (isUnencrypted(input)) throw ApplicationFailure.nonRetryable(`the tenant input is ${NOT_ENCRYPTED}`, 'UnencryptedInput');
  const settings = input.settings;
  if (!isTenantId(settings?.id) || workflowInfo().workflowId !== `tenant-${settings.id}`) {
    throw ApplicationFailure.nonRetryable(`the workflow id must be tenant-<id>, where ${TENANT_ID_RULE}`, 'InvalidTenant');
  }
  const c: CarriedState = input.carried ?? newTenantState();
  const now = () => new Date().toISOString();
  const addEvent = (kind: string, actor: string, detail?: string) => {
    c.events.push({ at: now(), kind, actor, ...(detail ? { detail } : {}) } satisfies TenantEvent);
    if (c.events.length > MAX_EVENTS) c.events.splice(0, c.events.length - MAX_EVENTS);
  };
  if (!input.carried) addEvent('added', input.actor);
  let busy = false;

  const computeMissing = () => stillMissing(c);
  if (patched(STATE_MEMO_PATCH)) void publish(() => tenantStateMemo(settings.name, c));
  const answer = (ok?: boolean): StepAnswer => {
    c.missing = computeMissing();
    return { step: c.step, missing: [...c.missing], ...(ok !== undefined ? { ok } : {}) };
  };
  const refuseIf = (req: unknown, name: string) => {
    if (isUnencrypted(req)) throw new Error(`${name} ${NOT_ENCRYPTED}`);
    if (c.step === 'offboarded') throw new Error(`tenant ${settings.id} is offboarded`);
    if (busy || c.step === 'validating_sandbox' || c.step === 'validating_production')
      throw new Error(`a check of tenant ${settings.id} is running (${c.step}); wait for its answer`);
  };
  const expect = (name: string, allowed: OnboardingState[], what: string) => {
    if (!allowed.includes(c.step)) throw new Error(`${name} is refused while tenant ${settings.id} is ${c.step}: ${what}`);
  };

  setHandler(tenantStatusQuery, (): TenantStatus => ({
    id: settings.id,
    name: settings.name,
    settings: { ...settings, policy: { ...settings.policy } },
    step: c.step,
    ...(c.pausedFrom ? { pausedFrom: c.pausedFrom } : {}),
    missing: computeMissing(),
    credentials: {
      sandbox: c.sandbox ? { set: true, keyId: c.sandbox.keyId } : { set: false },
      production: c.production ? { set: true, keyId: c.production.keyId, staged: !!c.stagedProduction } : { set: false, staged: !!c.stagedProduction },
    },
    ...(c.sandboxValidatedAt ? { sandboxValidatedAt: c.sandboxValidatedAt } : {}),
    ...(c.liveSince ? { liveSince: c.liveSince } : {}),
    ...(c.lookupWorks ? { lookupWorks: [...c.lookupWorks] } : {}),
    ...(c.lastCheck ? { lastCheck: JSON.parse(JSON.stringify(c.lastCheck)) as CheckSummary } : {}),
    events: c.events.map((e) => ({ ...e })),
  }));

  setHandler(tenantAccessQuery, (): TenantAccess => ({
    id: settings.id,
    step: c.step,
    ...(c.pausedFrom ? { pausedFrom: c.pausedFrom } : {}),
    settings: { ...settings, policy: { ...settings.policy } },
    ...(c.production ? { production: c.production } : {}),
    ...(c.sandbox ? { sandbox: c.sandbox } : {}),
  }));

  setHandler(
    setSandboxCredentialsUpdate,
    (req) => {
      c.sandbox = req.credentials;
      // New sandbox credentials undo an earlier sandbox check: it proved the old ones.
      c.step = 'awaiting_sandbox_credentials';
      c.sandboxValidatedAt = undefined;
      if (c.lastCheck?.environment === 'sandbox') c.lastCheck = undefined;
      addEvent('sandbox_credentials_set', actorOf(req), `sealed with key ${req.credentials.keyId}`);
      return answer();
    },
    {
      validator: (req) => {
        refuseIf(req, 'setSandboxCredentials');
        expect(
          'setSandboxCredentials',
          ['awaiting_sandbox_credentials', 'awaiting_production_key'],
          'the sandbox phase is over; set production credentials instead',
        );
        if (!sealedOk(req?.credentials)) throw new Error('credentials must be sealed with DSAR_CREDENTIALS_KEY (use dsar tenant set-credentials)');
      },
    },
  );

  setHandler(
    validateSandboxUpdate,
    async (req) => {
      busy = true;
      c.step = 'validating_sandbox';
      addEvent('sandbox_check_started', actorOf(req));
      let check: CheckSummary;
      try {
        check = await validationActivities(true, settings.id).validateTenantSandbox({
          tenantId: settings.id,
          baseUrl: settings.baseUrl,
          lookup: settings.lookup,
          mode: settings.policy.mode,
          environment: 'sandbox',
          credentials: c.sandbox!,
          testEmail: req.testEmail,
          positionUid: req.positionUid,
        });
      } catch (err) {
        check = {
          environment: 'sandbox',
          at: now(),
          ok: false,
          missing: [`the sandbox check could not run: ${failureText(err)}`],
          items: [],
          findings: {},
          lookupWorks: [],
        };
      } finally {
        busy = false;
      }
      c.lastCheck = check;
      if (check.ok) {
        c.sandboxValidatedAt = check.at;
        c.lookupWorks = check.lookupWorks;
        c.step = 'sandbox_validated';
        addEvent('sandbox_validated', 'worker', check.lookupWorks.length ? `lookup works: ${check.lookupWorks.join(', ')}` : undefined);
        c.step = 'awaiting_production_key';
      } else {
        c.step = 'awaiting_sandbox_credentials';
        addEvent('sandbox_check_failed', 'worker', check.missing.join('; '));
      }
      return answer(check.ok);
    },
    {
      validator: (req) => {
        refuseIf(req, 'validateSandbox');
        expect(
          'validateSandbox',
          ['awaiting_sandbox_credentials'],
          c.step === 'awaiting_production_key' ? 'the sandbox is validated already' : 'the sandbox phase is over',
        );
        if (!c.sandbox) throw new Error('validateSandbox needs the sandbox credentials first (dsar tenant set-credentials --environment sandbox)');
        if (typeof req?.testEmail !== 'string' || !/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(req.testEmail))
          throw new Error('validateSandbox needs the test email the customer gave (an email address)');
        if (typeof req?.positionUid !== 'string' || req.positionUid.trim() === '')
          throw new Error('validateSandbox needs the position uid the test candidate is created on');
      },
    },
  );

  setHandler(
    setProductionKeyUpdate,
    (req) => {
      if (c.step === 'live' || c.step === 'paused') {
        // A live tenant keeps its working key until the new one passes the check (go-live).
        c.stagedProduction = req.credentials;
        addEvent('production_key_staged', actorOf(req), `sealed with key ${req.credentials.keyId}`);
      } else {
        c.production = req.credentials;
        if (c.lastCheck?.environment === 'production') c.lastCheck = undefined;
        addEvent('production_key_set', actorOf(req), `sealed with key ${req.credentials.keyId}`);
      }
      return answer();
    },
    {
      validator: (req) => {
        refuseIf(req, 'setProductionKey');
        expect(
          'setProductionKey',
          ['awaiting_production_key', 'live', 'paused'],
          'the sandbox must be validated first (seed 000: production comes after the sandbox test)',
        );
        if (!sealedOk(req?.credentials)) throw new Error('credentials must be sealed with DSAR_CREDENTIALS_KEY (use dsar tenant set-credentials)');
      },
    },
  );

  setHandler(
    goLiveUpdate,
    async (req) => {
      busy = true;
      const from = c.step;
      const candidate = c.stagedProduction ?? c.production!;
      c.step = 'validating_production';
      addEvent('production_check_started', actorOf(req));
      let check: CheckSummary;
      try {
        check = await validationActivities(false, settings.id).validateTenantProduction({
          tenantId: settings.id,
          baseUrl: settings.baseUrl,
          lookup: settings.lookup,
          mode: settings.policy.mode,
          environment: 'production',
          credentials: candidate,
          ...(c.sandbox ? { secretFrom: c.sandbox } : {}),
        });
      } catch (err) {
        check = {
          environment: 'production',
          at: now(),
          ok: false,
          missing: [`the production check could not run: ${failureText(err)}`],
          items: [],
          findings: {},
          lookupWorks: [],
        };
      } finally {
        busy = false;
      }
      c.lastCheck = check;
      if (check.ok) {
        if (c.stagedProduction) {
          c.production = c.stagedProduction;
          c.stagedProduction = undefined;
          addEvent('production_key_rotated', 'worker');
        }
        c.step = from === 'awaiting_production_key' ? 'live' : from;
        if (from === 'awaiting_production_key') {
          c.liveSince = check.at;
          addEvent('live', actorOf(req));
        }
      } else {
        c.step = from;
        addEvent('production_check_failed', 'worker', check.missing.join('; '));
      }
      return answer(check.ok);
    },
    {
      validator: (req) => {
        refuseIf(req, 'goLive');
        if (c.step === 'live' && !c.stagedProduction) throw new Error(`tenant ${settings.id} is live already (set a new production key to rotate it)`);
        expect('goLive', ['awaiting_production_key', 'live'], c.step === 'paused' ? 'resume it first' : 'the sandbox must be validated first');
        if (!c.production && !c.stagedProduction)
          throw new Error('goLive needs the production API key first (dsar tenant set-credentials --environment production)');
      },
    },
  );

  setHandler(
    pauseUpdate,
    async (req) => {
      c.pausedFrom = c.step;
      c.step = 'paused';
      addEvent('paused', actorOf(req), req?.reason);
      // Workers keep a tenant's state for up to a second (tenants/directory.ts): answer once every
      // one of them has seen the pause, so "paused" means no new Comeet call for this tenant.
      await sleep(PAUSE_SETTLE_MS);
      return answer();
    },
    {
      validator: (req) => {
        refuseIf(req, 'pause');
        if (c.step === 'paused') throw new Error(`tenant ${settings.id} is paused already`);
      },
    },
  );

  setHandler(
    resumeUpdate,
    (req) => {
      c.step = c.pausedFrom ?? 'awaiting_sandbox_credentials';
      c.pausedFrom = undefined;
      addEvent('resumed', actorOf(req), req?.reason);
      return answer();
    },
    {
      validator: (req) => {
        refuseIf(req, 'resume');
        if (c.step !== 'paused') throw new Error(`tenant ${settings.id} is not paused (it is ${c.step})`);
      },
    },
  );

  setHandler(
    offboardUpdate,
    (req) => {
      c.step = 'offboarded';
      c.pausedFrom = undefined;
      // Nothing to keep the customer's keys for once they have left.
      c.sandbox = c.production = c.stagedProduction = undefined;
      addEvent('offboarded', actorOf(req), req?.reason);
      return answer();
    },
    { validator: (req) => refuseIf(req, 'offboard') },
  );

  await condition(() => c.step === 'offboarded' || (workflowInfo().continueAsNewSuggested && !busy));
  await condition(allHandlersFinished);
  if (c.step === 'offboarded') return { step: c.step };
  return continueAsNew<typeof tenantOnboarding>({ settings, actor: input.actor, carried: c });
}
