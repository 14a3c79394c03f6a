// How a failed call ends over client.fetch, as fetch() ends: the last attempt's HTTP answer as a
// Response (our keys scrubbed), a TypeError 'fetch failed' when no answer came, the caller's own
// abort reason when it aborted.
import { APIConnectionError } from 'openai';
import { describe, expect, it } from 'vitest';
import { chat, FALLBACK_KEY, PRIMARY_KEY, setup } from '../support/harness.js';
import { gate } from '../support/upstream.js';
import { CHAT_URL, fetchOf, post } from './support.js';

const errorBody = (message: string, code: string) =>
  JSON.stringify({ error: { message, type: 'invalid_request_error', param: null, code } });
const status = (code: number, body: string, headers?: Record<string, string>) => ({ kind: 'status' as const, status: code, body, headers });

describe('client.fetch: a failed call answers with the last HTTP answer', () => {
  it('error frames before any output on every attempt: the last 200 and its frame come back as sent, for the host to read', async () => {
    const { client, primary, fallback } = await setup();
    primary.setFault({ kind: 'error-frame' });
    fallback.setFault({ kind: 'error-frame' });
    const response = await fetchOf(client)(CHAT_URL, post({ ...chat, stream: true }));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    const error = { message: 'Injected stream error from primary', type: 'server_error', param: null, code: null };
    expect(await response.text()).toBe(`data: ${JSON.stringify({ error })}\n\n`);
    // primary, fallback, primary: the third attempt's frame.
    expect([primary.count(), fallback.count()]).toEqual([2, 1]);
  });

  it('an invalid x-resilient-failover header is bad input: a TypeError naming it, not a network failure; nothing is sent', async () => {
    const { client, primary, fallback } = await setup();
    const error = await fetchOf(client)(CHAT_URL, post(chat, { 'x-resilient-failover': 'sometimes' })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toMatch(/x-resilient-failover.*"sometimes"/);
    expect([primary.count(), fallback.count()]).toEqual([0, 0]);
  });

  it('a 400 is answered as it came: status, status text, JSON text and headers; one request, no failover', async () => {
    const { client, primary, fallback } = await setup();
    const body = errorBody('bad thing', 'bad_thing');
    primary.setFault(status(400, body, { 'x-upstream-note': 'primary-400' }));
    fallback.setFault(status(400, errorBody('fallback', 'x'), { 'x-upstream-note': 'fallback-400' }));
    const response = await fetchOf(client)(CHAT_URL, post(chat));
    expect(response.status).toBe(400);
    expect(response.statusText).toBe('Bad Request');
    expect(response.headers.get('x-upstream-note')).toBe('primary-400');
    expect(response.headers.get('content-type')).toBe('application/json');
    expect(response.headers.get('x-request-id')).toBe('req_primary_1');
    // Described a body fetch() had not decoded yet, or the connection: dropped.
    for (const name of ['content-length', 'connection', 'keep-alive']) expect(response.headers.has(name)).toBe(false);
    expect(await response.text()).toBe(body);
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(0);
  });

  it('429s retried on the primary: the Response is the third attempt, with its own body', async () => {
    const { client, primary, fallback } = await setup();
    const bodies = [1, 2, 3].map((n) => errorBody(`slow down ${n}`, 'rate_limit_exceeded'));
    primary.queue(...bodies.map((b, i) => status(429, b, { 'x-attempt': String(i + 1) })));
    const response = await fetchOf(client)(CHAT_URL, post(chat));
    expect(response.status).toBe(429);
    expect(response.headers.get('x-attempt')).toBe('3');
    expect(await response.text()).toBe(bodies[2]);
    expect(primary.count()).toBe(3);
    expect(fallback.count()).toBe(0);
  });

  it('503s on both endpoints: the Response is the last attempt (primary, fallback, primary again)', async () => {
    const { client, primary, fallback } = await setup();
    primary.queue(status(503, '{"attempt":1}'), status(503, '{"attempt":3}'));
    fallback.queue(status(503, '{"attempt":2}'));
    const response = await fetchOf(client)(CHAT_URL, post(chat));
    expect(response.status).toBe(503);
    expect(await response.text()).toBe('{"attempt":3}');
    expect(primary.count()).toBe(2);
    expect(fallback.count()).toBe(1);
  });

  it("an endpoint key echoed in an error's body or headers arrives as [redacted]", async () => {
    const { client, primary, fallback } = await setup();
    primary.setFault({ kind: 'bad-gateway' });
    fallback.setFault(
      status(400, errorBody(`key ${FALLBACK_KEY} (primary ${PRIMARY_KEY}) refused`, 'k'), { 'x-echo': `${FALLBACK_KEY};${PRIMARY_KEY}` }),
    );
    const response = await fetchOf(client)(CHAT_URL, post(chat));
    expect(response.status).toBe(400);
    expect(await response.text()).toBe(errorBody('key [redacted] (primary [redacted]) refused', 'k'));
    expect(response.headers.get('x-echo')).toBe('[redacted];[redacted]');
    expect(fallback.count()).toBe(1);
  });
});

describe('client.fetch: failures without an HTTP answer reject as fetch() does', () => {
  it("both endpoints reset: TypeError 'fetch failed' whose cause is the SDK's APIConnectionError", async () => {
    const { client, primary, fallback } = await setup();
    primary.setFault({ kind: 'reset' });
    fallback.setFault({ kind: 'reset' });
    const error = await fetchOf(client)(CHAT_URL, post(chat)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('fetch failed');
    expect((error as TypeError).cause).toBeInstanceOf(APIConnectionError);
    expect(primary.count()).toBe(2);
    expect(fallback.count()).toBe(1);
  });

  for (const fault of [{ kind: 'hang' }, { kind: 'held' }] as const) {
    it(`the caller's abort while the request is held (${fault.kind}) rejects with the signal's own reason`, async () => {
      const { client, primary, fallback } = await setup();
      const held = gate();
      primary.setFault(fault.kind === 'hang' ? fault : { kind: 'held', until: held.opened });
      const controller = new AbortController();
      const reason = { why: 'user left' };
      const pending = fetchOf(client)(CHAT_URL, { ...post(chat), signal: controller.signal });
      await primary.received(1);
      controller.abort(reason);
      const error = await pending.catch((e: unknown) => e);
      held.open();
      expect(error).toBe(reason);
      expect(primary.count()).toBe(1);
      expect(fallback.count()).toBe(0);
    });
  }

  it('an already aborted signal rejects with its reason, and nothing is sent', async () => {
    const { client, primary, fallback } = await setup();
    const reason = new Error('gone');
    await expect(fetchOf(client)(CHAT_URL, { ...post(chat), signal: AbortSignal.abort(reason) })).rejects.toBe(reason);
    expect(primary.count() + fallback.count()).toBe(0);
  });
});
