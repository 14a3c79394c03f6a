import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIUserAbortError,
  AuthenticationError,
  BadRequestError,
  InternalServerError,
  NotFoundError,
  PermissionDeniedError,
  RateLimitError,
  UnprocessableEntityError,
  toStreamingFile,
} from 'openai';
import { Readable } from 'node:stream';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { getAttemptErrors, IncompleteStreamError } from '../src/index.js';
import { chat, clientFor, setup, track, upstream } from './support/harness.js';
import { refusedURL } from './support/upstream.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('default policy: failover', () => {
  for (const [label, fault] of [
    ['502 HTML page', { kind: 'bad-gateway' }],
    ['503', { kind: 'status', status: 503 }],
    ['504', { kind: 'status', status: 504 }],
    ['reset connection', { kind: 'reset' }],
  ] as const) {
    it(`${label}: switches to the fallback at once, without sleeping`, async () => {
      const { client, primary, fallback, events } = await setup({ retry: { initialDelayMs: 60_000 } });
      primary.setFault(fault);
      const completion = await client.chat.completions.create(chat);
      expect(completion.choices[0]!.message.content).toBe('hello from fallback');
      expect(primary.count()).toBe(1);
      expect(fallback.count()).toBe(1);
      expect(events.switched).toEqual([expect.objectContaining({ from: 'primary', to: 'fallback', reason: 'error' })]);
      expect(events.retry[0]!.delayMs).toBe(0);
    });
  }

  it('refused connection and unknown host fail over', async () => {
    const fallback = await upstream('fallback');
    for (const baseURL of [await refusedURL(), 'http://no-such-host.invalid/v1']) {
      const client = track(clientFor(baseURL, { fallback: { apiKey: 'sk-f-123456', baseURL: fallback.url } }));
      const events: unknown[] = [];
      client.on('switched', (e) => events.push(e.error));
      const completion = await client.chat.completions.create(chat);
      expect(completion.choices[0]!.message.content).toBe('hello from fallback');
      expect(events[0]).toBeInstanceOf(APIConnectionError);
    }
  });

  it('a hang past the timeout fails over with APIConnectionTimeoutError as the reason', async () => {
    const { client, primary, events } = await setup({ timeout: 400 });
    primary.setFault({ kind: 'hang' });
    const completion = await client.chat.completions.create(chat);
    expect(completion.choices[0]!.message.content).toBe('hello from fallback');
    expect(events.switched[0]!.error).toBeInstanceOf(APIConnectionTimeoutError);
  });

  it('503/504 failover can be turned off: then they are retried on the same endpoint', async () => {
    const { client, primary, fallback, events } = await setup({ failover: { statuses: [502] } });
    primary.queue({ kind: 'status', status: 503 }, { kind: 'status', status: 504 });
    const completion = await client.chat.completions.create(chat);
    expect(completion.choices[0]!.message.content).toBe('hello from primary');
    expect(primary.count()).toBe(3);
    expect(fallback.count()).toBe(0);
    expect(events.switched).toHaveLength(0);
  });

  it('with 200 concurrent calls failing on the primary, exactly one switched event fires', async () => {
    const { client, primary, fallback, events } = await setup();
    primary.setFault({ kind: 'bad-gateway' });
    const results = await Promise.all(Array.from({ length: 200 }, () => client.chat.completions.create(chat)));
    expect(results.every((r) => r.choices[0]!.message.content === 'hello from fallback')).toBe(true);
    expect(events.switched).toHaveLength(1);
    const inFlight = primary.count();
    expect(fallback.count()).toBe(200);
    // Later calls go straight to the fallback.
    await Promise.all(Array.from({ length: 50 }, () => client.chat.completions.create(chat)));
    expect(primary.count()).toBe(inFlight);
    expect(fallback.count()).toBe(250);
  });

  it('both endpoints down: every attempt fails, the last SDK error is thrown with all attempts reachable', async () => {
    const { client, primary, fallback } = await setup();
    primary.setFault({ kind: 'bad-gateway' });
    fallback.setFault({ kind: 'status', status: 503 });
    const error = await client.chat.completions.create(chat).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    expect((error as InternalServerError).status).toBe(502);
    const attempts = getAttemptErrors(error);
    expect(attempts.map((a) => a.endpoint)).toEqual(['primary', 'fallback', 'primary']);
    expect(attempts.map((a) => (a.error as InternalServerError).status)).toEqual([502, 503, 502]);
    expect(attempts[2]!.error).toBe(error);
    expect(primary.count() + fallback.count()).toBe(3);
  });

  it('maxRetries: 0 means one request; the switch still happens for the next call', async () => {
    const { client, primary, fallback, events } = await setup({ maxRetries: 0 });
    primary.setFault({ kind: 'bad-gateway' });
    await expect(client.chat.completions.create(chat)).rejects.toMatchObject({ status: 502 });
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(0);
    expect(events.switched).toHaveLength(1);
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from fallback');
  });

  it('no fallback (empty list): a 502 is retried with backoff on the only endpoint', async () => {
    const primary = await upstream('primary');
    const client = track(clientFor(primary, { fallback: [], retry: { initialDelayMs: 1 } }));
    primary.queue({ kind: 'bad-gateway' });
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from primary');
    expect(primary.count()).toBe(2);
  });

  it('ordered fallbacks: the next one that is up takes over', async () => {
    const primary = await upstream('primary');
    const second = await upstream('second');
    const third = await upstream('third');
    const client = track(
      clientFor(primary, {
        fallback: [
          { name: 'second', apiKey: 'sk-2-123456', baseURL: second.url },
          { name: 'third', apiKey: 'sk-3-123456', baseURL: third.url },
        ],
      }),
    );
    const switched: string[] = [];
    client.on('switched', (e) => switched.push(`${e.from}->${e.to}`));
    primary.setFault({ kind: 'bad-gateway' });
    second.setFault({ kind: 'reset' });
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from third');
    expect(switched).toEqual(['primary->second', 'second->third']);
    expect(client.getStatus().endpoints.map((e) => [e.name, e.available])).toEqual([
      ['primary', false],
      ['second', false],
      ['third', true],
    ]);
  });
});

describe('default policy: retries on the same endpoint', () => {
  it('a 500 burst then success: retried on the primary with backoff, no switch', async () => {
    const { client, primary, fallback, events } = await setup();
    primary.queue({ kind: 'status', status: 500 }, { kind: 'status', status: 500 });
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from primary');
    expect(primary.count()).toBe(3);
    expect(fallback.count()).toBe(0);
    expect(events.switched).toHaveLength(0);
    expect(events.retry.map((e) => e.endpoint)).toEqual(['primary', 'primary']);
    expect(events.retry.every((e) => e.delayMs >= 1 && e.delayMs <= 5)).toBe(true);
  });

  it('429 with Retry-After / retry-after-ms: waits what the server asked', async () => {
    const { client, primary, events } = await setup();
    primary.queue({ kind: 'rate-limit', retryAfterMs: '40' }, { kind: 'rate-limit', retryAfter: '0' });
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from primary');
    // `0` seconds is no wait at all, where the backoff of this client would wait 1 to 5 ms.
    expect(events.retry.map((e) => e.delayMs)).toEqual([40, 0]);
    expect(events.retry[0]!.error).toBeInstanceOf(RateLimitError);
  });

  it('a Retry-After given as an HTTP date is honoured', async () => {
    const { client, primary, events } = await setup();
    // HTTP dates have whole seconds: on a fake clock at a whole second, the wait is exact.
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-01-01T00:00:00Z') });
    primary.queue({ kind: 'rate-limit', retryAfter: new Date(Date.now() + 1000).toUTCString() });
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from primary');
    expect(events.retry.map((e) => e.delayMs)).toEqual([1000]);
  });

  it('a Retry-After that is neither digits nor an HTTP date is ignored: backoff applies', async () => {
    const { client, primary, events } = await setup({ retry: { initialDelayMs: 3, maxDelayMs: 3, jitter: 0 } });
    primary.queue({ kind: 'rate-limit', retryAfter: '5abc' }, { kind: 'rate-limit', retryAfter: '1.5' });
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from primary');
    expect(events.retry.map((e) => e.delayMs)).toEqual([3, 3]);
    // Positive control: digits are honoured.
    primary.queue({ kind: 'rate-limit', retryAfter: '0' });
    await client.chat.completions.create(chat);
    expect(events.retry.map((e) => e.delayMs)).toEqual([3, 3, 0]);
  });

  it('a Retry-After above maxRetryAfterMs falls back to backoff', async () => {
    // The retry policy alone: a long wait would otherwise fail over (rateLimits.longWaitMs).
    const { client, primary, events } = await setup({
      retry: { initialDelayMs: 2, maxDelayMs: 2, jitter: 0, maxRetryAfterMs: 1000 },
      rateLimits: { longWaitMs: 10_000_000 },
    });
    primary.queue({ kind: 'rate-limit', retryAfter: '3600' });
    await client.chat.completions.create(chat);
    expect(events.retry.map((e) => e.delayMs)).toEqual([2]);
  });

  it('x-should-retry overrides the status rule', async () => {
    const { client, primary } = await setup();
    primary.queue({ kind: 'status', status: 500, headers: { 'x-should-retry': 'false' } });
    await expect(client.chat.completions.create(chat)).rejects.toMatchObject({ status: 500 });
    expect(primary.count()).toBe(1);
    primary.queue({ kind: 'status', status: 400, headers: { 'x-should-retry': 'true' } });
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from primary');
    expect(primary.count()).toBe(3);
  });

  it('at most 3 attempts by default; maxRetries (client and per request) and retry.maxAttempts are honoured', async () => {
    const { client, primary } = await setup();
    primary.setFault({ kind: 'status', status: 500 });
    await expect(client.chat.completions.create(chat)).rejects.toMatchObject({ status: 500 });
    expect(primary.count()).toBe(3);
    await expect(client.chat.completions.create(chat, { maxRetries: 4 })).rejects.toMatchObject({ status: 500 });
    expect(primary.count()).toBe(8);
    const fewer = await setup({ maxRetries: 1 });
    fewer.primary.setFault({ kind: 'status', status: 500 });
    await expect(fewer.client.chat.completions.create(chat)).rejects.toMatchObject({ status: 500 });
    expect(fewer.primary.count()).toBe(2);
    const more = await setup({ retry: { maxAttempts: 5, initialDelayMs: 1 } });
    more.primary.setFault({ kind: 'status', status: 500 });
    await expect(more.client.chat.completions.create(chat)).rejects.toMatchObject({ status: 500 });
    expect(more.primary.count()).toBe(5);
  });

  const classes = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    422: UnprocessableEntityError,
  } as const;
  for (const status of [400, 401, 403, 404, 422] as const) {
    it(`${status}: no retry, no failover, the SDK's own error class`, async () => {
      const { client, primary, fallback, events } = await setup();
      primary.setFault({ kind: 'status', status });
      const error = await client.chat.completions.create(chat).catch((e: unknown) => e);
      expect((error as { status: number }).status).toBe(status);
      expect(error).toBeInstanceOf(classes[status]);
      expect(primary.count()).toBe(1);
      expect(fallback.count()).toBe(0);
      expect(events.switched).toHaveLength(0);
    });
  }

  it('an abort during a backoff sleep ends the call at once', async () => {
    const { client, primary, events } = await setup({ retry: { initialDelayMs: 60_000, maxDelayMs: 60_000 } });
    primary.setFault({ kind: 'status', status: 500 });
    const controller = new AbortController();
    // The wait starts as soon as the retry event has been emitted: abort on the next turn, during it.
    client.on('retry', () => setImmediate(() => controller.abort()));
    const started = Date.now();
    await expect(client.chat.completions.create(chat, { signal: controller.signal })).rejects.toBeInstanceOf(APIUserAbortError);
    expect(Date.now() - started).toBeLessThan(5000);
    expect(events.retry).toHaveLength(1);
    expect(primary.count()).toBe(1);
  });

  it('a streaming upload body is never re-sent: the error surfaces', async () => {
    const { client, primary, fallback } = await setup();
    primary.setFault({ kind: 'bad-gateway' });
    const file = toStreamingFile(Readable.from([Buffer.from('stream-audio')]), 'clip.wav');
    const error = await client.audio.transcriptions.create({ model: 'whisper-1', file }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InternalServerError);
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(0);
  });
});

describe('streams', () => {
  it('a stream cut after the response started surfaces an error while iterating, and is not re-sent', async () => {
    const { client, primary, fallback } = await setup();
    primary.queue({ kind: 'cut-stream', afterChunks: 1 });
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    const chunks: string[] = [];
    const error = await (async () => {
      for await (const chunk of stream) chunks.push(chunk.choices[0]?.delta?.content ?? '');
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IncompleteStreamError);
    expect(error).toMatchObject({ endpoint: 'primary' });
    expect(chunks).toEqual(['hello ']);
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(0);
  });
});

describe('custom policies', () => {
  it('a custom retry and failover policy are used as given', async () => {
    const seen: number[] = [];
    const { client, primary, fallback } = await setup({
      retry: { maxAttempts: 4, shouldRetry: (ctx) => (seen.push(ctx.attempt), true), delayMs: () => 1 },
      failover: { shouldFailover: (ctx) => (ctx.error as { status?: number }).status === 418 },
    });
    primary.queue({ kind: 'status', status: 400 }, { kind: 'status', status: 418 });
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from fallback');
    expect(seen).toEqual([1]);
    expect(primary.count()).toBe(2);
    expect(fallback.count()).toBe(1);
  });
});
