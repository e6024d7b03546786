/** The workflows this worker runs; only re-exports. */
export {
  dsarErasure,
  dsarFollowUp,
  statusQuery,
  recheckNowSignal,
  cancelSignal,
  cancelUpdate,
  extendDeadlineUpdate,
  attachRequestSignal,
  attachRequestUpdate,
} from './erasure.js';
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
