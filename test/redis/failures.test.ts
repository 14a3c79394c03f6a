/**
 * Redis trouble never breaks OpenAI calls. Eight processes call their upstreams without pause
 * while Redis is absent at start, stopped, frozen (SIGSTOP) and restarted empty: every call
 * succeeds, promptly, with no unhandled rejection; each process decides alone meanwhile, and
 * they converge again once Redis is back.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisServer, type RedisServer } from '../support/redis-server.js';
import { startUpstream, type Upstream } from '../support/upstream.js';
import { recover, sleep, startFleet, trackUnhandled, trip, waitFor, type Fleet, type FleetWorker } from './fleet.js';

const SIZE = 8;
/** A call must never wait for Redis: far below any Redis timeout or reconnect delay. */
const CALL_BOUND_MS = 750;

const unhandled = trackUnhandled();

let server: RedisServer;
let primary: Upstream;
let fallback: Upstream;
let fleet: Fleet;

beforeAll(async () => {
  // Absent at start: the port is reserved, nothing listens there yet.
  server = await redisServer({ start: false });
  [primary, fallback] = await Promise.all([startUpstream({ name: 'primary' }), startUpstream({ name: 'fallback' })]);
  fleet = await startFleet({
    size: SIZE,
    redisUrl: server.url,
    primaryUrl: primary.url,
    fallbackUrl: fallback.url,
    apiKey: 'sk-redis-failures-SECRET-0123456789',
  });
  await fleet.all('load', 25);
}, 60_000);

afterAll(async () => {
  await fleet?.all('load', false).catch(() => {});
  await fleet?.close();
  await Promise.all([primary?.close(), fallback?.close()]);
  await server?.close();
  unhandled.stop();
  expect(fleet?.fatal ?? []).toEqual([]);
  expect(unhandled.reasons).toEqual([]);
});

const active = async () => (await fleet.all('status')).map((s) => s.coordination.active as boolean);
const endpoints = async () => (await fleet.all('status')).map((s) => s.activeEndpoint as string);

/** Waits for `check` and says how long it took. */
async function until(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  await waitFor(check, timeoutMs, what, 20);
  return Date.now() - started;
}

/** The background calls since the last look: all succeeded, none waited on Redis. */
async function expectCallsUnharmed(): Promise<void> {
  const stats = await Promise.all(fleet.workers.map((w) => w.stats()));
  for (const s of stats) {
    expect(s.errors).toEqual([]);
    expect(s.failed).toBe(0);
    expect(s.ok).toBeGreaterThan(0);
    expect(s.maxMs).toBeLessThan(CALL_BOUND_MS);
  }
}

/** With Redis away, a trip stays in the process that saw it: the others keep using the primary. */
async function expectLocalOnly(tripper: FleetWorker): Promise<void> {
  expect(await active()).toEqual(Array(SIZE).fill(false));
  await tripper.request('trip');
  await sleep(700);
  const where = await endpoints();
  expect(where[tripper.index]).toBe('fallback');
  expect(where.filter((e) => e === 'primary')).toHaveLength(SIZE - 1);
}

/** Once Redis is back, every process follows the tripper's change (which was never shared). */
async function expectConvergence(tripper: FleetWorker, label: string): Promise<void> {
  const back = await until(async () => (await active()).every(Boolean), 6000, 'every worker to see Redis again');
  const converged = await until(async () => (await endpoints()).every((e) => e === 'fallback'), 3000, 'every worker to use the fallback');
  console.log(`[redis failures] ${label}: Redis seen again after ${back} ms, converged ${converged} ms later`);
  // And the cluster works as before: a recovery reaches everyone within 1 s.
  const { latencies } = await recover(fleet, tripper);
  expect(Math.max(...latencies)).toBeLessThan(1000);
  expect(await endpoints()).toEqual(Array(SIZE).fill('primary'));
}

describe('Redis trouble across 8 processes', () => {
  it('works without Redis at start, and converges once it starts', async () => {
    await sleep(800);
    await expectLocalOnly(fleet.workers[0]!);
    await expectCallsUnharmed();
    await server.start();
    await expectConvergence(fleet.workers[0]!, 'absent at start');
    await expectCallsUnharmed();
  }, 30_000);

  it('keeps calls working while Redis is stopped, and converges when it is back', async () => {
    await server.stop();
    await until(async () => (await active()).every((a) => !a), 3000, 'every worker to notice');
    await expectLocalOnly(fleet.workers[1]!);
    await expectCallsUnharmed();
    await server.start();
    await expectConvergence(fleet.workers[1]!, 'stopped');
    await expectCallsUnharmed();
  }, 30_000);

  it('keeps calls prompt while Redis is frozen (SIGSTOP), and converges when it thaws', async () => {
    server.freeze();
    try {
      const noticed = await until(async () => (await active()).every((a) => !a), 3000, 'every worker to notice');
      console.log(`[redis failures] frozen: every worker noticed within ${noticed} ms`);
      // The lease question is bounded by the library's own timeout, and answers "probe locally".
      const started = Date.now();
      expect(await fleet.workers[5]!.request('shouldProbe')).toBe(true);
      expect(Date.now() - started).toBeLessThan(1000);
      await expectLocalOnly(fleet.workers[2]!);
      await expectCallsUnharmed();
    } finally {
      server.thaw();
    }
    await expectConvergence(fleet.workers[2]!, 'frozen');
    await expectCallsUnharmed();
  }, 30_000);

  it('recovers from a restart that empties Redis', async () => {
    // Shared state before the restart: the primary is open everywhere.
    await trip(fleet, fleet.workers[3]!);
    await server.restart();
    const admin = createClient({ url: server.url });
    admin.on('error', () => {});
    await admin.connect();
    expect(await admin.keys(`${fleet.namespace}:endpoint:*`)).toEqual([]);
    // Nothing survived in Redis; the processes reconnect (subscribers too) and still agree.
    const back = await until(async () => (await active()).every(Boolean), 6000, 'every worker to see Redis again');
    expect(await endpoints()).toEqual(Array(SIZE).fill('fallback'));
    // Changes after the restart are ordered after those before it (the epoch is the server's clock).
    const recovered = await recover(fleet, fleet.workers[4]!);
    const tripped = await trip(fleet, fleet.workers[6]!);
    const recoveredAgain = await recover(fleet, fleet.workers[7]!);
    const latencies = [...recovered.latencies, ...tripped.latencies, ...recoveredAgain.latencies];
    console.log(
      `[redis failures] restarted empty: Redis seen again after ${back} ms; then max switch ${Math.round(Math.max(...latencies))} ms`,
    );
    expect(Math.max(...latencies)).toBeLessThan(1000);
    expect(await admin.keys(`${fleet.namespace}:endpoint:*`)).toHaveLength(1);
    await admin.close();
    await expectCallsUnharmed();
  }, 30_000);
});
