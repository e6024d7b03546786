/**
 * Proof of erasure: a receipt signed as a compact JWS (EdDSA or ES256) that an auditor can check
 * with the public key alone. It names the request, the workflow run, a keyed hash of the subject
 * (never the email), the persons and candidates erased and when absence was verified.
 *
 * No Temporal imports: used from an activity, the CLI and tests.
 */
export {
  RECEIPT_TYPE,
  RECEIPT_VERSION,
  RECEIPT_ALGS,
  DEFAULT_ISSUER,
  receiptSchema,
  receiptClaimsSchema,
  type Receipt,
  type ReceiptAlg,
  type ReceiptClaims,
  type ReceiptPerson,
} from './schema.js';
export { ReceiptKeyError } from './keys.js';
export {
  createReceiptSigner,
  generateReceiptKeys,
  InvalidReceiptClaimsError,
  loadReceiptSigner,
  RECEIPT_ENV,
  type ReceiptSigner,
  type ReceiptSignerOptions,
} from './signer.js';
export { ReceiptVerificationError, verifyReceipt, type ReceiptVerificationCode, type VerifiedReceipt } from './verify.js';
