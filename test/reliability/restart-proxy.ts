/**
 * A pass-through HTTP proxy in front of the simulator that behaves like a real server towards a
 * caller that dies: a request it has received in full is carried out upstream even if the caller's
 * socket is gone (the answer is thrown away). The simulator alone does not model that: an erase
 * whose caller disconnected during the injected latency is never applied (its body read never ends),
 * so "Comeet erased, but the worker died before it heard" could not happen without this.
 */
import { Agent, createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ForwardingProxy {
  readonly url: string;
  close(): Promise<void>;
}

export async function startForwardingProxy(upstreamUrl: string): Promise<ForwardingProxy> {
  const upstream = new URL(upstreamUrl);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    res.on('error', () => undefined);
    const body: Buffer[] = [];
    req.on('data', (c: Buffer) => body.push(c));
    req.on('error', () => undefined);
    // Forward only once the request is complete, and independently of the caller from then on.
    req.on('end', () => {
      const up = request(
        {
          host: upstream.hostname,
          port: upstream.port,
          method: req.method,
          path: req.url,
          // The Host header stays ours, so absolute next_page links point back through the proxy.
          headers: req.headers,
          agent,
        },
        (ur) => {
          if (res.destroyed) {
            ur.resume();
            return;
          }
          res.writeHead(ur.statusCode ?? 502, ur.headers);
          ur.pipe(res);
        },
      );
      up.on('error', () => {
        if (!res.headersSent && !res.destroyed) res.writeHead(502).end();
        else res.destroy();
      });
      up.end(Buffer.concat(body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}
