/** The workflows this worker runs; only re-exports. */
export {
  dsarErasure,
  statusQuery,
  recheckNowSignal,
  cancelSignal,
  cancelUpdate,
  extendDeadlineUpdate,
  attachRequestSignal,
  attachRequestUpdate,
} from './erasure.js';
export { dsarFollowUp } from './follow-up.js';
export { dsarLookup } from './lookup.js';
export {
  tenantOnboarding,
  tenantStatusQuery,
  setSandboxCredentialsUpdate,
  validateSandboxUpdate,
  setProductionKeyUpdate,
  goLiveUpdate,
  pauseUpdate,
  resumeUpdate,
  offboardUpdate,
} from './tenant-onboarding.js';
