/**
 * What the worker does with payloads that reached it unencrypted (a raw `temporal workflow start`,
 * a Web UI start or signal without the codec server): its codec swaps each one for this marker, so
 * the plaintext never reaches workflow or activity code, and they refuse the marker. Imported by the
 * workflow bundle: no Node APIs here.
 */
import { ApplicationFailure } from '@temporalio/common';

/** The JSON key of the marker payload (`{"$dsarUnencrypted":true}`). */
export const UNENCRYPTED_MARKER = '$dsarUnencrypted';

export const UNENCRYPTED_INPUT = 'UnencryptedInput';

/** True for a value the worker's codec put in place of an unencrypted payload. */
export function isUnencrypted(value: unknown): boolean {
  return typeof value === 'object' && value !== null && (value as Record<string, unknown>)[UNENCRYPTED_MARKER] === true;
}

const HOW_TO_START =
  'start it with `dsar erase`, the dsar client (startErasure), the intake API, or `temporal workflow start --codec-endpoint <codec server> --codec-auth "Bearer <token>"`, which encrypts through the codec server';

/** The non-retryable failure of a run whose input arrived in clear. */
export function unencryptedStartFailure(): ApplicationFailure {
  return ApplicationFailure.create({
    type: UNENCRYPTED_INPUT,
    nonRetryable: true,
    message:
      'The workflow input arrived unencrypted, so it sits in this workflow history in clear; nothing was looked up or erased. ' +
      `Delete this history (temporal workflow delete -w <workflow id>), then ${HOW_TO_START}.`,
  });
}

/** Why a signal or an update was refused. */
export const NOT_ENCRYPTED = 'not encrypted: send it with the dsar CLI or client, or through the codec server (--codec-endpoint)';

/**
 * Activities get their arguments from our own (encrypting) workflows only; anything else that
 * schedules one in clear is refused for good instead of retried.
 */
export function refuseUnencryptedArgs<T extends Record<string, (...args: never[]) => Promise<unknown>>>(activities: T): T {
  return Object.fromEntries(
    Object.entries(activities).map(([name, fn]) => [
      name,
      (...args: never[]) => {
        if (args.some(isUnencrypted)) {
          return Promise.reject(
            ApplicationFailure.create({
              type: UNENCRYPTED_INPUT,
              nonRetryable: true,
              message: `The input of activity ${name} arrived unencrypted; only the dsar workflows, which encrypt it, may schedule it.`,
            }),
          );
        }
        return fn(...args);
      },
    ]),
  ) as T;
}
