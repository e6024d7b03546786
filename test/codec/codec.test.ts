/** The AES-GCM payload codec and the operators' codec server, over real HTTP. */
import { ApplicationFailure, defaultPayloadConverter, type Payload } from '@temporalio/common';
import { afterEach, describe, expect, it } from 'vitest';
import { AesGcmPayloadCodec, CodecKeyError, ENCRYPTED_ENCODING, parseEncryptionKeys } from '../../src/codec/aes-gcm.js';
import { createDataConverter, createWorkerDataConverter } from '../../src/codec/data-converter.js';
import { startCodecServer, type CodecServer } from '../../src/codec/server.js';
import { isUnencrypted, refuseUnencryptedArgs, UNENCRYPTED_MARKER } from '../../src/codec/unencrypted.js';

const key = (n: number) => Buffer.alloc(32, n).toString('base64');
const SECRET_TEXT = 'subject.person@example.com';
const payload = (): Payload => defaultPayloadConverter.toPayload({ email: SECRET_TEXT })!;
const text = (p: Payload) => Buffer.from(p.data ?? []).toString('latin1');
const meta = (p: Payload, k: string) => Buffer.from(p.metadata?.[k] ?? []).toString();

describe('AesGcmPayloadCodec', () => {
  it('encrypts with the current key id and decrypts back to the same payload', async () => {
    const codec = new AesGcmPayloadCodec(parseEncryptionKeys(`k1:${key(1)}`));
    const [enc] = await codec.encode([payload()]);
    expect(meta(enc!, 'encoding')).toBe(ENCRYPTED_ENCODING);
    expect(meta(enc!, 'encryption-key-id')).toBe('k1');
    expect(text(enc!)).not.toContain('subject.person');
    const [dec] = await codec.decode([enc!]);
    expect(defaultPayloadConverter.fromPayload(dec!)).toEqual({ email: SECRET_TEXT });
    // A fresh IV per payload: the same plaintext never gives the same ciphertext.
    const [again] = await codec.encode([payload()]);
    expect(Buffer.from(again!.data!).equals(Buffer.from(enc!.data!))).toBe(false);
  });

  it('rotates: after switching to a new key, payloads written with the old one still decode', async () => {
    const before = new AesGcmPayloadCodec(parseEncryptionKeys(`old:${key(1)}`));
    const [old] = await before.encode([payload()]);
    const after = new AesGcmPayloadCodec(parseEncryptionKeys(`old:${key(1)},new:${key(2)}`, 'new'));
    const [fresh] = await after.encode([payload()]);
    expect(meta(fresh!, 'encryption-key-id')).toBe('new');
    const decoded = await after.decode([old!, fresh!]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([{ email: SECRET_TEXT }, { email: SECRET_TEXT }]);
  });

  it('says which key is missing, and refuses altered or relabelled payloads', async () => {
    const codec = new AesGcmPayloadCodec(parseEncryptionKeys(`k1:${key(1)},k2:${key(2)}`));
    const [enc] = await codec.encode([payload()]);
    const withoutK1 = new AesGcmPayloadCodec(parseEncryptionKeys(`k2:${key(2)}`));
    await expect(withoutK1.decode([enc!])).rejects.toThrow(/encrypted with key "k1", which is not configured/);

    const altered = { ...enc!, data: Buffer.from(enc!.data!) };
    altered.data[20] = altered.data[20]! ^ 1;
    await expect(codec.decode([altered])).rejects.toThrow(CodecKeyError);

    // Same bytes claimed under another key id: the id is authenticated data, so it fails.
    const relabelled = { ...enc!, metadata: { ...enc!.metadata, 'encryption-key-id': Buffer.from('k2') } };
    await expect(codec.decode([relabelled])).rejects.toThrow(/does not decrypt with key "k2"/);
  });

  it('passes payloads written before encryption was on through unchanged', async () => {
    const codec = new AesGcmPayloadCodec(parseEncryptionKeys(`k1:${key(1)}`));
    const plain = payload();
    expect(await codec.decode([plain])).toEqual([plain]);
  });

  it('for the worker, swaps each unencrypted payload for the marker, dropping its data, and decrypts the rest', async () => {
    const keys = parseEncryptionKeys(`k1:${key(1)}`);
    const worker = new AesGcmPayloadCodec(keys, { unencrypted: 'mark' });
    const [enc] = await worker.encode([payload()]);
    const nullPayload = defaultPayloadConverter.toPayload(undefined)!;
    const decoded = await worker.decode([payload(), enc!, nullPayload]);
    expect(decoded.map((p) => defaultPayloadConverter.fromPayload(p))).toEqual([
      { [UNENCRYPTED_MARKER]: true },
      { email: SECRET_TEXT },
      { [UNENCRYPTED_MARKER]: true },
    ]);
    expect(text(decoded[0]!)).not.toContain('subject.person');
    expect(isUnencrypted(defaultPayloadConverter.fromPayload(decoded[0]!))).toBe(true);
    // The worker's data converter is the marking one; clients' is not.
    const [fromWorker] = await createWorkerDataConverter(keys).payloadCodecs![0]!.decode([payload()]);
    expect(isUnencrypted(defaultPayloadConverter.fromPayload(fromWorker!))).toBe(true);
    const [fromClient] = await createDataConverter(keys).payloadCodecs![0]!.decode([payload()]);
    expect(defaultPayloadConverter.fromPayload(fromClient!)).toEqual({ email: SECRET_TEXT });
  });

  it('activities refuse a marker argument for good (non-retryable UnencryptedInput), and run otherwise', async () => {
    const calls: unknown[] = [];
    const acts = refuseUnencryptedArgs({ lookUp: async (input: { email: string }) => (calls.push(input), 'ran') });
    const err = await acts.lookUp({ [UNENCRYPTED_MARKER]: true } as never).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect((err as ApplicationFailure).type).toBe('UnencryptedInput');
    expect((err as ApplicationFailure).nonRetryable).toBe(true);
    expect(calls).toEqual([]);
    expect(await acts.lookUp({ email: SECRET_TEXT })).toBe('ran');
    expect(calls).toEqual([{ email: SECRET_TEXT }]);
  });
});

describe('codec server', () => {
  let server: CodecServer | undefined;
  afterEach(async () => {
    await server?.close();
    server = undefined;
  });
  const TOKEN = 'operator-token-0123456789abcdef';
  const start = () => startCodecServer({ keys: parseEncryptionKeys(`k1:${key(1)}`), token: TOKEN, corsOrigins: ['http://localhost:8233'] });
  const body = (p: Payload) =>
    JSON.stringify({
      payloads: [
        {
          metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])),
          data: Buffer.from(p.data ?? []).toString('base64'),
        },
      ],
    });

  it('encodes and decodes for a caller with the token (header or path), and refuses everyone else', async () => {
    server = await start();
    const enc = await fetch(`${server.url}/encode`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: body(payload()),
    });
    expect(enc.status).toBe(200);
    const encoded = (await enc.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(Buffer.from(encoded.payloads[0]!.metadata.encoding!, 'base64').toString()).toBe(ENCRYPTED_ENCODING);
    const dec = await fetch(`${server.uiEndpoint}/decode`, { method: 'POST', body: JSON.stringify(encoded) });
    expect(dec.status).toBe(200);
    const decoded = (await dec.json()) as { payloads: { data: string }[] };
    expect(Buffer.from(decoded.payloads[0]!.data, 'base64').toString()).toContain(SECRET_TEXT);

    for (const attempt of [
      fetch(`${server.url}/decode`, { method: 'POST', body: JSON.stringify(encoded) }),
      fetch(`${server.url}/decode`, { method: 'POST', headers: { authorization: 'Bearer nope' }, body: JSON.stringify(encoded) }),
      fetch(`${server.url}/t/${'x'.repeat(TOKEN.length)}/decode`, { method: 'POST', body: JSON.stringify(encoded) }),
    ]) {
      const r = await attempt;
      expect(r.status).toBe(401);
      expect(await r.text()).not.toContain(SECRET_TEXT);
    }
    const bad = await fetch(`${server.url}/decode`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` }, body: 'not json' });
    expect(bad.status).toBe(400);
  });

  it('answers CORS preflight for the Web UI origin only', async () => {
    server = await start();
    const ok = await fetch(`${server.uiEndpoint}/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'http://localhost:8233', 'access-control-request-method': 'POST' },
    });
    expect(ok.status).toBe(204);
    expect(ok.headers.get('access-control-allow-origin')).toBe('http://localhost:8233');
    expect(ok.headers.get('access-control-allow-headers')).toContain('x-namespace');
    const other = await fetch(`${server.uiEndpoint}/decode`, {
      method: 'OPTIONS',
      headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' },
    });
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('refuses a short token at start', async () => {
    await expect(startCodecServer({ keys: parseEncryptionKeys(`k1:${key(1)}`), token: 'short', corsOrigins: [] })).rejects.toThrow(/at least 24/);
  });
});
