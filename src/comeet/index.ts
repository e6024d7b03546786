/** The Comeet Recruiting API: client, schemas and typed errors. No Temporal imports here. */
export { ComeetClient, LOOKUP_STRATEGIES } from './client.js';
export type { CallOptions, ComeetCallInfo, ComeetClientOptions, EraseMode, EraseResult, LookupPage, LookupProgress, LookupStrategy } from './client.js';
export * from './errors.js';
export { ComeetTokenSource, REMINT_BEFORE_EXPIRY_S, TOKEN_LIFETIME_S } from './jwt.js';
export { parseRetryAfter } from './retry-after.js';
export type { ComeetCandidate, ComeetStep, CreateCandidateInput } from './schemas.js';
