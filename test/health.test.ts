import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResilientOpenAI } from '../src/index.js';
import { chat, FALLBACK_KEY, PRIMARY_KEY, record, setup, track, upstream } from './support/harness.js';

afterEach(() => {
  vi.useRealTimers();
});

async function withTimer(intervalMs = 300_000) {
  const primary = await upstream('primary');
  const fallback = await upstream('fallback');
  // Only setInterval is faked: the HTTP stack keeps its real timers.
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  const client = track(
    new ResilientOpenAI({
      apiKey: PRIMARY_KEY,
      baseURL: primary.url,
      fallback: { apiKey: FALLBACK_KEY, baseURL: fallback.url },
      healthCheck: { intervalMs, timeoutMs: 500 },
    }),
  );
  return { primary, fallback, client, events: record(client) };
}

async function nextCheck(events: ReturnType<typeof record>, intervalMs = 300_000) {
  const before = events.healthcheck.length;
  vi.advanceTimersByTime(intervalMs);
  await vi.waitFor(() => expect(events.healthcheck.length).toBe(before + 1), { timeout: 5000, interval: 5 });
}

describe('health timer', () => {
  it('probes the primary every 5 minutes by default and switches back when it recovers', async () => {
    const { client, primary, fallback, events } = await withTimer();
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create(chat);
    expect(client.activeEndpoint).toBe('fallback');
    vi.advanceTimersByTime(299_999);
    await new Promise((r) => setTimeout(r, 20));
    expect(primary.count('/models')).toBe(0);

    await nextCheck(events, 1);
    expect(events.healthcheck.at(-1)).toMatchObject({ endpoint: 'primary', ok: false });
    expect(client.activeEndpoint).toBe('fallback');

    primary.setFault(null);
    await nextCheck(events);
    expect(events.healthcheck.at(-1)).toMatchObject({ endpoint: 'primary', ok: true });
    // Hysteresis: two healthy probes in a row (breaker.successThreshold) before traffic returns.
    expect(client.activeEndpoint).toBe('fallback');
    expect(client.getStatus().endpoints[0]!.state).toBe('half-open');
    await nextCheck(events);
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
    const { client, primary, events } = await withTimer(1000);
    primary.setFault({ kind: 'status', status: 503 });
    await nextCheck(events, 1000);
    expect(client.activeEndpoint).toBe('fallback');
    expect(events.switched).toEqual([expect.objectContaining({ from: 'primary', to: 'fallback', reason: 'healthcheck' })]);
  });

  it('close() stops the timer, is idempotent, and works through Symbol.asyncDispose', async () => {
    const { client, primary } = await withTimer(1000);
    client.close();
    client.close();
    vi.advanceTimersByTime(10_000);
    await new Promise((r) => setTimeout(r, 20));
    expect(primary.count('/models')).toBe(0);
    expect(client.getStatus().closed).toBe(true);
    expect(client.getStatus().healthCheck.enabled).toBe(false);
    // Calls keep working after close().
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from primary');

    const other = await withTimer(1000);
    await other.client[Symbol.asyncDispose]();
    expect(other.client.getStatus().healthCheck.enabled).toBe(false);
  });

  it('close() drops a probe still running: no event, no switch', async () => {
    const { client, primary, events } = await setup();
    primary.setFault({ kind: 'hang' });
    const probe = client.checkPrimary();
    await new Promise((r) => setTimeout(r, 30));
    client.close();
    expect(await probe).toBe(false);
    expect(events.healthcheck).toEqual([]);
    expect(events.switched).toEqual([]);
    expect(client.activeEndpoint).toBe('primary');
  });

  it('healthCheck: false runs no timer', async () => {
    const { client, primary } = await setup();
    expect(client.getStatus().healthCheck.enabled).toBe(false);
    await new Promise((r) => setTimeout(r, 20));
    expect(primary.count()).toBe(0);
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
    expect(events.healthcheck[0]!.error).toBeDefined();
  });

  it('concurrent calls share one probe', async () => {
    const { client, primary } = await setup();
    primary.setFault({ kind: 'delay', ms: 50 });
    const results = await Promise.all(Array.from({ length: 20 }, () => client.checkPrimary()));
    expect(results.every(Boolean)).toBe(true);
    expect(primary.count('/models')).toBe(1);
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
