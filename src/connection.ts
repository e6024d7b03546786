/**
 * Connection options for Temporal from config: a local dev server, a self-hosted cluster with
 * (m)TLS, or Temporal Cloud with an API key. Shared by the worker and every client.
 */
import { readFileSync } from 'node:fs';
import type { TLSConfig } from '@temporalio/client';
import type { TemporalConfig } from './config.js';

export interface TemporalConnectionOptions {
  address: string;
  tls?: TLSConfig | boolean;
  apiKey?: string;
}

export function connectionOptions(config: TemporalConfig): TemporalConnectionOptions {
  const mtls = config.TEMPORAL_TLS_CLIENT_CERT_PATH && config.TEMPORAL_TLS_CLIENT_KEY_PATH;
  const wantsTls = config.TEMPORAL_TLS ?? (Boolean(config.TEMPORAL_API_KEY) || Boolean(mtls));
  let tls: TLSConfig | boolean | undefined;
  if (wantsTls) {
    tls = {};
    if (mtls) {
      tls.clientCertPair = {
        crt: readFileSync(config.TEMPORAL_TLS_CLIENT_CERT_PATH!),
        key: readFileSync(config.TEMPORAL_TLS_CLIENT_KEY_PATH!),
      };
    }
    if (config.TEMPORAL_TLS_SERVER_CA_CERT_PATH) tls.serverRootCACertificate = readFileSync(config.TEMPORAL_TLS_SERVER_CA_CERT_PATH);
  }
  return { address: config.TEMPORAL_ADDRESS, tls, apiKey: config.TEMPORAL_API_KEY };
}
