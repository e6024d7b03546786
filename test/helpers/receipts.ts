/** One receipt key pair per test process: workers sign with it, tests verify with its JWKS. */
import { generateReceiptKeys, loadReceiptSigner, type ReceiptSigner } from '../../src/receipt/index.js';

let keys: Promise<{ signer: ReceiptSigner; jwks: string; privateJwk: string; keyId: string }> | undefined;

export function testReceiptKeys() {
  keys ??= (async () => {
    const k = await generateReceiptKeys('EdDSA');
    const signer = await loadReceiptSigner({ DSAR_RECEIPT_KEY: k.privateJwk, DSAR_RECEIPT_KEY_ID: k.keyId });
    return { signer: signer!, jwks: JSON.stringify(k.publicJwks), privateJwk: k.privateJwk, keyId: k.keyId };
  })();
  return keys;
}
