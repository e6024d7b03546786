/**
 * The data converter the worker and every client share: payloads through the AES-GCM codec, and
 * failure messages and stack traces encoded too, so an error that quotes Comeet cannot leak.
 */
import { fileURLToPath } from 'node:url';
import type { DataConverter } from '@temporalio/common';
import { AesGcmPayloadCodec, type EncryptionKeys } from './aes-gcm.js';

/**
 * For the worker and bundleWorkflowCode: the workflow sandbox loads the converter by path, the
 * compiled .js from dist/ or the .ts source under tsx, whichever this module runs as.
 */
export const FAILURE_CONVERTER_PATH = fileURLToPath(new URL(`./failure-converter${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`, import.meta.url));

/** For clients (CLI, intake, services): unencrypted payloads (old or foreign data) still decode as they are. */
export function createDataConverter(keys: EncryptionKeys): DataConverter {
  // Clients decode encoded failure attributes with the default converter; only encoding needs the path.
  return { payloadCodecs: [new AesGcmPayloadCodec(keys)], failureConverterPath: FAILURE_CONVERTER_PATH };
}

/**
 * For workers: an unencrypted payload (a raw `temporal workflow start`, a UI start or signal without
 * the codec server) reaches workflow and activity code only as the unencrypted marker, which they
 * refuse. Headers and search attributes do not go through the codec.
 */
export function createWorkerDataConverter(keys: EncryptionKeys): DataConverter {
  return { payloadCodecs: [new AesGcmPayloadCodec(keys, { unencrypted: 'mark' })], failureConverterPath: FAILURE_CONVERTER_PATH };
}
