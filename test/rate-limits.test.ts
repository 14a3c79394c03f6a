import { RateLimitError } from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResilientOpenAI } from '../src/index.js';
import { chat, setup } from './support/harness.js';

afterEach(() => {
  vi.useRealTimers();
});

const quota = {
  kind: 'status' as const,
  status: 429,
  body: JSON.stringify({ error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' } }),
};
const text = async (client: ResilientOpenAI) => (await client.chat.completions.create(chat)).choices[0]!.message.content;

describe('429s that waiting does not heal soon', () => {
  it('insufficient_quota fails over at once and holds the primary out for quotaCooldownMs, probes notwithstanding', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-01T00:00:00Z') });
    const { client, primary, events } = await setup({ rateLimits: { quotaCooldownMs: 600_000 } });
    primary.queue(quota);
    expect(await text(client)).toBe('hello from fallback');
    expect(primary.count()).toBe(1); // never retried there
    expect(events.switched.map((e) => e.reason)).toEqual(['quota']);
    const status = client.getStatus().endpoints[0]!;
    expect(status.heldFor).toBe('quota');
    expect(status.heldUntil).toBe('2026-12-01T00:10:00.000Z');
    // Probes pass while a quota is spent: two healthy probes do not bring traffic back.
    expect(await client.checkPrimary()).toBe(true);
    expect(await client.checkPrimary()).toBe(true);
    expect(client.activeEndpoint).toBe('fallback');
    expect(await text(client)).toBe('hello from fallback');
    // Positive control: once the hold is over, the same two probes switch back.
    vi.setSystemTime(new Date('2026-12-01T00:10:01Z'));
    await client.checkPrimary();
    await client.checkPrimary();
    expect(client.activeEndpoint).toBe('primary');
    expect(client.getStatus().endpoints[0]!.heldFor).toBeNull();
  });

  it('a Retry-After longer than rateLimits.longWaitMs fails over at once; the endpoint is out until then', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: new Date('2026-12-01T00:00:00Z') });
    const { client, primary, events } = await setup();
    primary.queue({ kind: 'rate-limit', retryAfter: '120' });
    expect(await text(client)).toBe('hello from fallback');
    expect(primary.count()).toBe(1);
    expect(events.retry.map((e) => [e.from, e.endpoint, e.delayMs])).toEqual([['primary', 'fallback', 0]]);
    expect(events.switched.map((e) => e.reason)).toEqual(['rate-limit']);
    expect(client.getStatus().endpoints[0]).toMatchObject({ heldFor: 'rate-limit', heldUntil: '2026-12-01T00:02:00.000Z' });
  });

  it('x-ratelimit-reset-* headers count as the wait asked for', async () => {
    const { client, primary, events } = await setup();
    primary.queue({
      kind: 'status',
      status: 429,
      body: JSON.stringify({ error: { message: 'Rate limit reached', type: 'requests', code: 'rate_limit_exceeded' } }),
      headers: { 'x-ratelimit-reset-tokens': '6m0s' },
    });
    expect(await text(client)).toBe('hello from fallback');
    expect(events.switched.map((e) => e.reason)).toEqual(['rate-limit']);
  });

  it('a short wait is retried on the same endpoint, as before', async () => {
    const { client, primary, fallback, events } = await setup();
    primary.queue({ kind: 'rate-limit', retryAfter: '0' }, { kind: 'rate-limit', retryAfterMs: '30' });
    expect(await text(client)).toBe('hello from primary');
    expect(primary.count()).toBe(3);
    expect(fallback.count()).toBe(0);
    expect(events.switched).toEqual([]);
  });

  it('with nowhere to go (a call pinned to its endpoint), a quota 429 is handled as today: retried, then thrown', async () => {
    const { client, primary, fallback } = await setup();
    primary.setFault(quota);
    await expect(client.files.list()).rejects.toBeInstanceOf(RateLimitError);
    expect(primary.count()).toBe(3);
    expect(fallback.count()).toBe(0);
  });

  it('rejects invalid rateLimits options, naming them', () => {
    expect(() => new ResilientOpenAI({ apiKey: 'sk-x', rateLimits: { longWaitMs: -1 } })).toThrow(/`rateLimits\.longWaitMs`.*got -1/);
    expect(() => new ResilientOpenAI({ apiKey: 'sk-x', rateLimits: { quotaCooldownMs: 1.5 } })).toThrow(/`rateLimits\.quotaCooldownMs`/);
  });
});
