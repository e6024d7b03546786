/**
 * The data converter the worker and every client share: payloads through the AES-GCM codec, and
 * failure messages and stack traces encoded too, so an error that quotes Comeet cannot leak.
 */
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, type EncryptionKeys } from './aes-gcm.js';

/** For the worker and bundleWorkflowCode: the workflow sandbox loads the converter by path. */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL('./failure-converter.ts', import.meta.url));

export function createDataConverter(keys: EncryptionKeys): DataConverter {
  // Clients decode encoded failure attributes with the default converter; only encoding needs the path.
  return { payloadCodecs: [new AesGcmPayloadCodec(keys)], failureConverterPath: FAILURE_CONVERTER_PATH };
}
