/**
 * Delivers one completion callback: POST of the signed JSON payload. Returns on 2xx; throws a
 * CallbackDeliveryError whose `retryable` says whether trying again can help.
 */
import { Agent, request } from 'undici';
import type { CallbackPayload } from './payload.js';
import { CallbackAddressError, callbackTargetProblem, type CallbackTargetPolicy } from './address-policy.js';
import { guardedConnector, type ResolveAll } from './connector.js';
import { DELIVERY_HEADER, EVENT_HEADER, SIGNATURE_HEADER, signatureHeader } from './signature.js';

export interface CallbackSettings extends CallbackTargetPolicy {
  /** HMAC secrets; the first is current. Empty: callbacks cannot be sent (retried until configured). */
  secrets: string[];
  /** DSAR_CALLBACK_HOSTS; empty = any host (public addresses only, unless allowedNetworks says otherwise). */
  allowedHosts: string[];
  timeoutMs?: number;
  /** Name resolution of the callback host; tests inject one. Default: dns.lookup. */
  resolve?: ResolveAll;
}

export class CallbackDeliveryError extends Error {
  override name = 'CallbackDeliveryError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly code: string,
  ) {
    super(message);
  }
}

export async function deliverCallback(settings: CallbackSettings, url: string, payload: CallbackPayload, signal?: AbortSignal): Promise<{ status: number }> {
  if (!settings.secrets.length) {
    // Retryable on purpose: configuring the secret and restarting the worker delivers it.
    throw new CallbackDeliveryError('DSAR_CALLBACK_SECRET is not set on the worker: callbacks cannot be signed', true, 'CallbackNotConfigured');
  }
  // A URL may have reached the workflow by any path (intake, client, a signal): check it all again here.
  const problem = callbackTargetProblem(url, settings);
  if (problem) throw new CallbackDeliveryError(problem.message, false, problem.code);
  const body = JSON.stringify(payload);
  const timeout = settings.timeoutMs ?? 10_000;
  // One agent per delivery: its connector checks the address it connects to (see connector.ts).
  const dispatcher = new Agent({ connect: guardedConnector({ policy: settings, resolve: settings.resolve, timeoutMs: timeout }) });
  let res;
  try {
    res = await request(url, {
      dispatcher,
      method: 'POST',
      body,
      headers: {
        'content-type': 'application/json',
        'user-agent': 'comeet-dsar-callback/1',
        [SIGNATURE_HEADER]: signatureHeader(settings.secrets, body, Math.floor(Date.now() / 1000)),
        [EVENT_HEADER]: payload.event,
        // Same for every attempt: receivers use it to ignore a repeat delivery.
        [DELIVERY_HEADER]: `${payload.id}/${payload.runId}/${payload.requestId ?? '-'}`,
      },
      headersTimeout: timeout,
      bodyTimeout: timeout,
      // undici follows no redirects by default: a callback must not be bounced to another host.
      signal,
    });
  } catch (err) {
    await dispatcher.destroy().catch(() => undefined);
    if (err instanceof CallbackAddressError) throw new CallbackDeliveryError(err.message, false, err.code);
    throw new CallbackDeliveryError(`callback to ${new URL(url).host} failed: ${(err as Error).message}`, true, 'CallbackNetworkError');
  }
  await res.body.dump().catch(() => undefined);
  await dispatcher.destroy().catch(() => undefined);
  if (res.statusCode >= 200 && res.statusCode < 300) return { status: res.statusCode };
  // 408/409/425/429 and 5xx are worth retrying; other 4xx mean the receiver will never accept it.
  const retryable = res.statusCode >= 500 || [408, 409, 425, 429].includes(res.statusCode);
  throw new CallbackDeliveryError(
    `callback to ${new URL(url).host} answered ${res.statusCode}`,
    retryable,
    retryable ? 'CallbackRejectedRetryable' : 'CallbackRejected',
  );
}
