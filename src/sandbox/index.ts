/**
 * Pre-go-live and health checks of the Comeet integration: `runDoctor` (read-only, any environment)
 * and `runSandboxCheck` (writes: sandbox only). They talk to Comeet only, never to Temporal.
 */
export { CallCounter, PERMISSIONS as SANDBOX_PERMISSIONS } from './advice.js';
export { runSandboxCheck, TEST_CANDIDATE_NAME, type SandboxCheckOptions } from './check.js';
export { DOCTOR_PROBE_EMAIL, LOOKUP_ENDPOINTS, runDoctor, type DoctorOptions } from './doctor.js';
export { formatReport, type CheckItem, type CheckReport, type CheckStatus } from './report.js';
