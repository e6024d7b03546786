/** A loopback receiver of completion callbacks, and the worker settings that let callbacks reach it. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { CallbackPayload } from '../../src/callbacks/payload.js';

export const CALLBACK_SECRET = 'callback-secret-0123456789abcdef0123456789';
/** runScenario options: callbacks are signed, and loopback is allowed (it is refused by default). */
export const callbackWorker = { worker: { callbacks: { secrets: [CALLBACK_SECRET], allowedHosts: [], allowedNetworks: ['127.0.0.1/32'] } } };

/**
 * `held`: each callback is recorded at once and answered only after `release()` (a slow receiver), so
 * a test can act while a run is still telling its callers, whatever the machine's speed.
 */
export async function startReceiver(
  options: { held?: boolean } = {},
): Promise<{ url: string; received: CallbackPayload[]; release(): void; close(): Promise<void> }> {
  const received: CallbackPayload[] = [];
  let held = options.held === true;
  const waiting: (() => void)[] = [];
  const release = () => {
    held = false;
    waiting.splice(0).forEach((answer) => answer());
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push(JSON.parse(Buffer.concat(chunks).toString('utf8')) as CallbackPayload);
      const answer = () => res.writeHead(200).end();
      if (held) waiting.push(answer);
      else answer();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks/dsar`,
    received,
    release,
    // A test that failed while callbacks were held must not hang in close() on their open connections.
    close: () => {
      release();
      return new Promise((r) => server.close(() => r()));
    },
  };
}
