import { spawnSync } from 'node:child_process';
import { APIConnectionError } from 'openai';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  chat,
  clientFor,
  fallbackOn,
  localCoordination,
  nextEvent,
  PRIMARY_KEY,
  record,
  setup,
  track,
  upstream,
} from './support/harness.js';

afterEach(() => {
  vi.useRealTimers();
});

/** Counts the timer's ticks: a tick asks the coordination `shouldProbe()` first, synchronously. */
function countingTicks() {
  let ticks = 0;
  const coordination = localCoordination({
    shouldProbe: () => {
      ticks++;
      return Promise.resolve(true);
    },
  });
  return { coordination, ticks: () => ticks };
}

/** A client with its health timer on fake time (only setInterval is faked: the HTTP stack keeps its real timers). */
async function withTimer(intervalMs?: number) {
  const primary = await upstream('primary');
  const fallback = await upstream('fallback');
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  const { coordination, ticks } = countingTicks();
  const healthCheck = intervalMs === undefined ? { timeoutMs: 500 } : { intervalMs, timeoutMs: 500 };
  const client = track(clientFor(primary, { fallback: fallbackOn(fallback), healthCheck, coordination })).start();
  return { primary, fallback, client, events: record(client), ticks };
}

/** Runs the timer to its next tick: none 1 ms before the interval, one at it; resolves with that probe's event. */
function nextCheck({ client, ticks }: Awaited<ReturnType<typeof withTimer>>, intervalMs = 300_000) {
  const before = ticks();
  vi.advanceTimersByTime(intervalMs - 1);
  expect(ticks()).toBe(before);
  const checked = nextEvent(client, 'healthcheck');
  vi.advanceTimersByTime(1);
  expect(ticks()).toBe(before + 1);
  return checked;
}

describe('health timer', () => {
  it('probes the primary every 5 minutes by default and switches back when it recovers', async () => {
    const timed = await withTimer();
    const { client, primary, fallback, events } = timed;
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create(chat);
    expect(client.activeEndpoint).toBe('fallback');
    expect(client.getStatus().healthCheck.intervalMs).toBe(300_000);

    expect(await nextCheck(timed)).toMatchObject({ endpoint: 'primary', ok: false });
    expect(primary.count('/models')).toBe(1);
    expect(client.activeEndpoint).toBe('fallback');

    primary.setFault(null);
    expect(await nextCheck(timed)).toMatchObject({ endpoint: 'primary', ok: true });
    // Hysteresis: two healthy probes in a row (breaker.successThreshold) before traffic returns.
    expect(client.activeEndpoint).toBe('fallback');
    expect(client.getStatus().endpoints[0]!.state).toBe('half-open');
    await nextCheck(timed);
    expect(primary.count('/models')).toBe(3);
    expect(client.activeEndpoint).toBe('primary');
    expect(events.switched.map((e) => `${e.from}->${e.to}:${e.reason}`)).toEqual([
      'primary->fallback:error',
      'fallback->primary:recovered',
    ]);
    expect(events.recovered).toEqual([{ endpoint: 'primary', downtimeMs: expect.any(Number) }]);
    expect(events.recovered[0]!.downtimeMs).toBeGreaterThanOrEqual(0);
    const status = client.getStatus();
    expect(status.isMainApiAvailable).toBe(true);
    expect(status.lastCheckedAt).toMatch(/^\d{4}-\d{2}-\d{2}T/);

    const before = fallback.count();
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from primary');
    expect(fallback.count()).toBe(before);
  });

  it('a failed probe while the primary is active switches away from it', async () => {
    const timed = await withTimer(1000);
    timed.primary.setFault({ kind: 'status', status: 503 });
    await nextCheck(timed, 1000);
    expect(timed.client.activeEndpoint).toBe('fallback');
    expect(timed.events.switched).toEqual([expect.objectContaining({ from: 'primary', to: 'fallback', reason: 'healthcheck' })]);
  });

  it('close() stops the timer, is idempotent, and works through Symbol.asyncDispose', async () => {
    const timed = await withTimer(1000);
    const { client, primary, ticks } = timed;
    await nextCheck(timed, 1000); // the timer runs until close()
    expect(primary.count('/models')).toBe(1);
    client.close();
    client.close();
    expect(vi.getTimerCount()).toBe(0);
    vi.advanceTimersByTime(10_000);
    expect(ticks()).toBe(1);
    expect(client.getStatus().closed).toBe(true);
    expect(client.getStatus().healthCheck.enabled).toBe(false);
    // Calls keep working after close().
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from primary');

    const other = await withTimer(1000);
    expect(vi.getTimerCount()).toBe(1);
    await other.client[Symbol.asyncDispose]();
    expect(vi.getTimerCount()).toBe(0);
    expect(other.client.getStatus().healthCheck.enabled).toBe(false);
  });

  it('close() drops a probe still running: no event, no switch', async () => {
    const { client, primary, events } = await setup();
    primary.setFault({ kind: 'hang' });
    const probe = client.checkPrimary();
    await primary.received(1, '/models'); // the probe is in flight
    client.close();
    expect(await probe).toBe(false);
    expect(events.healthcheck).toEqual([]);
    expect(events.switched).toEqual([]);
    expect(client.activeEndpoint).toBe('primary');
    // The same hung probe on a client left open does report, and switches.
    const open = await setup({ healthCheck: { intervalMs: 600_000, timeoutMs: 100 } });
    open.primary.setFault({ kind: 'hang' });
    expect(await open.client.checkPrimary()).toBe(false);
    expect(open.events.healthcheck).toMatchObject([{ endpoint: 'primary', ok: false }]);
    expect(open.events.switched).toMatchObject([{ from: 'primary', to: 'fallback', reason: 'healthcheck' }]);
  });

  it('healthCheck: false runs no timer', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const off = await setup();
    expect(off.client.getStatus().healthCheck.enabled).toBe(false);
    expect(vi.getTimerCount()).toBe(0);
    // The same setup with a health check has its timer, and it probes.
    const on = await setup({ healthCheck: { intervalMs: 1000 } });
    on.client.start();
    expect(vi.getTimerCount()).toBe(1);
    const checked = nextEvent(on.client, 'healthcheck');
    vi.advanceTimersByTime(1000);
    expect(await checked).toMatchObject({ endpoint: 'primary', ok: true });
    expect(on.primary.count('/models')).toBe(1);
  });
});

describe('checkPrimary()', () => {
  it('resolves true/false, updates the state both ways, never rejects', async () => {
    const { client, primary, events } = await setup();
    primary.setFault({ kind: 'reset' });
    expect(await client.checkPrimary()).toBe(false);
    expect(client.activeEndpoint).toBe('fallback');
    expect(client.getStatus().isMainApiAvailable).toBe(false);
    primary.setFault(null);
    expect(await client.checkPrimary()).toBe(true);
    expect(client.activeEndpoint).toBe('fallback');
    expect(await client.checkPrimary()).toBe(true);
    expect(client.activeEndpoint).toBe('primary');
    expect(events.healthcheck.map((e) => e.ok)).toEqual([false, true, true]);
    expect(events.healthcheck[0]!.error).toBeInstanceOf(APIConnectionError);
  });

  it('concurrent calls share one probe', async () => {
    const { client, primary } = await setup();
    const results = await Promise.all(Array.from({ length: 20 }, () => client.checkPrimary()));
    expect(results).toEqual(Array.from({ length: 20 }, () => true));
    expect(primary.count('/models')).toBe(1);
    // A check after that probe ended is a probe of its own.
    await client.checkPrimary();
    expect(primary.count('/models')).toBe(2);
  });

  it('a hung probe counts as failed after healthCheck.timeoutMs', async () => {
    const { client, primary, events } = await setup({ healthCheck: { timeoutMs: 100, intervalMs: 600_000 } });
    primary.setFault({ kind: 'hang' });
    expect(await client.checkPrimary()).toBe(false);
    expect(events.healthcheck[0]!.latencyMs).toBeGreaterThanOrEqual(90);
    expect(String(events.healthcheck[0]!.error)).toMatch(/timed out/);
  });

  it('a custom probe decides health', async () => {
    let healthy = false;
    const { client } = await setup({ healthCheck: { probe: () => healthy } });
    expect(await client.checkPrimary()).toBe(false);
    healthy = true;
    expect(await client.checkPrimary()).toBe(true);
  });

  it('the probe lists models, costs no tokens, and carries the primary key only to the primary', async () => {
    const { client, primary, fallback } = await setup();
    await client.checkPrimary();
    expect(primary.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models']);
    expect(primary.requests[0]!.headers.authorization).toBe(`Bearer ${PRIMARY_KEY}`);
    expect(fallback.count()).toBe(0);
  });
});

describe('process lifetime', () => {
  it('a script that never calls close() still exits on its own (the timer is unref-ed)', () => {
    const script = `
      import { ResilientOpenAI } from ${JSON.stringify(fileURLToPath(new URL('../src/index.ts', import.meta.url)))};
      new ResilientOpenAI({ apiKey: 'sk-x-123456', baseURL: 'http://127.0.0.1:9/v1', healthCheck: { intervalMs: 100 } });
      console.log('created');
    `;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      timeout: 15_000,
      encoding: 'utf8',
    });
    expect(result.stdout).toContain('created');
    expect(result.signal).toBeNull();
    expect(result.status).toBe(0);
  });
});
