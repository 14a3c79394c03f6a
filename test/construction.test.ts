/**
 * A client may be built at module scope on any runtime: construction does no I/O, sets no timer
 * and draws no random value (Cloudflare Workers forbid all three there). The background work
 * starts with the first request, `checkPrimary()` or `start()`.
 */
import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createRedisCoordination, ResilientOpenAI } from '../src/index.js';
import { sha256Hex } from '../src/setup/sha256.js';
import { chat, clientFor, fallbackOn, track, upstream } from './support/harness.js';

afterEach(() => {
  vi.useRealTimers();
  vi.restoreAllMocks();
});

/** Counts what construction must not do. */
function watchForbidden() {
  const spies = [
    vi.spyOn(globalThis, 'setInterval'),
    vi.spyOn(globalThis, 'setTimeout'),
    vi.spyOn(globalThis, 'fetch'),
    vi.spyOn(Math, 'random'),
    vi.spyOn(globalThis.crypto, 'randomUUID'),
    vi.spyOn(globalThis.crypto, 'getRandomValues'),
  ];
  return () => spies.map((s) => s.mock.calls.length);
}

describe('construction', () => {
  it('sets no timer, sends nothing and draws no random value, even with Redis coordination and a health timer', () => {
    const redis = {
      isReady: false,
      duplicate: () => redis,
      connect: () => Promise.resolve(),
      sendCommand: () => Promise.reject(new Error('not connected')),
      on: () => redis,
    };
    const counts = watchForbidden();
    const client = new ResilientOpenAI({
      apiKey: 'sk-construct-123456',
      baseURL: 'http://127.0.0.1:9/v1',
      fallback: [{ apiKey: 'sk-f-123456' }, { apiKey: 'sk-g-123456', baseURL: 'http://127.0.0.1:10/v1' }],
      healthCheck: { intervalMs: 1000 },
      coordination: createRedisCoordination({ client: redis as never }),
    });
    expect(counts()).toEqual([0, 0, 0, 0, 0, 0]);
    expect(client.getStatus().healthCheck.enabled).toBe(true);
    client.close();
  });

  it('the first request starts the health timer; start() is idempotent; after close() nothing starts', async () => {
    const primary = await upstream('primary');
    const fallback = await upstream('fallback');
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const client = track(clientFor(primary, { fallback: fallbackOn(fallback), healthCheck: { intervalMs: 1000 } }));
    expect(vi.getTimerCount()).toBe(0);
    await client.chat.completions.create(chat);
    expect(vi.getTimerCount()).toBe(1);
    client.start().start();
    expect(vi.getTimerCount()).toBe(1);
    client.close();
    expect(vi.getTimerCount()).toBe(0);

    const closedFirst = track(clientFor(primary, { fallback: fallbackOn(fallback), healthCheck: { intervalMs: 1000 } }));
    closedFirst.close();
    closedFirst.start();
    // Calls keep working after close(); they start nothing.
    expect((await closedFirst.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from primary');
    expect(await closedFirst.checkPrimary()).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
    expect(closedFirst.getStatus().healthCheck.enabled).toBe(false);
  });

  it('checkPrimary() starts it too (a scheduled handler on a runtime without long-lived timers)', async () => {
    const primary = await upstream('primary');
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const client = track(clientFor(primary, { fallback: [], healthCheck: { intervalMs: 1000 } }));
    expect(await client.checkPrimary()).toBe(true);
    expect(vi.getTimerCount()).toBe(1);
  });

  it('the instance id is drawn at first use, and stays', () => {
    const client = track(new ResilientOpenAI({ apiKey: 'sk-id-123456', healthCheck: false }));
    const id = client.getStatus().coordination.instanceId;
    expect(id).toMatch(/^[0-9a-f]{8}$/);
    expect(client.getStatus().coordination.instanceId).toBe(id);
  });
});

describe('endpoint ids without node:crypto', () => {
  it('our SHA-256 equals node:crypto on the inputs ids are made of (so a mixed-version fleet agrees)', () => {
    const inputs = ['', 'abc', 'primary\nhttps://proxy.example/v1', 'fallback\nhttps://user:***@x.example/v1?key=***', 'é→🙂'.repeat(40)];
    for (let n = 50; n < 70; n++) inputs.push('x'.repeat(n));
    for (const input of inputs) expect(sha256Hex(input)).toBe(createHash('sha256').update(input).digest('hex'));
  });
});
