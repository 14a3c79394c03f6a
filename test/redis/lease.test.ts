/**
 * One health prober per cluster: eight processes with health timers share one Redis, and exactly
 * one of them (the holder of the probe lease) probes the primary in each interval. When it dies,
 * another takes the lease within the lease time; when it closes, it releases the lease at once.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisServer, type RedisServer } from '../support/redis-server.js';
import { startUpstream, type Upstream } from '../support/upstream.js';
import { sleep, startFleet, trackUnhandled, waitFor, type Fleet, type FleetWorker, type WorkerEvent } from './fleet.js';

const SIZE = 8;
const INTERVAL_MS = 400;
const LEASE_MS = 1200;

const unhandled = trackUnhandled();

let server: RedisServer;
let primary: Upstream;
let fallback: Upstream;
let fleet: Fleet;
let admin: ReturnType<typeof createClient>;

beforeAll(async () => {
  server = await redisServer();
  [primary, fallback] = await Promise.all([startUpstream({ name: 'primary' }), startUpstream({ name: 'fallback' })]);
  fleet = await startFleet({
    size: SIZE,
    redisUrl: server.url,
    primaryUrl: primary.url,
    fallbackUrl: fallback.url,
    apiKey: 'sk-redis-lease-SECRET-0123456789',
    healthIntervalMs: INTERVAL_MS,
    leaseMs: LEASE_MS,
  });
  admin = createClient({ url: server.url });
  admin.on('error', () => {});
  await admin.connect();
}, 60_000);

afterAll(async () => {
  await fleet?.close();
  await admin?.close().catch(() => {});
  await Promise.all([primary?.close(), fallback?.close()]);
  await server?.close();
  unhandled.stop();
  expect(fleet?.fatal ?? []).toEqual([]);
  expect(unhandled.reasons).toEqual([]);
});

const leaseKey = () => `${fleet.namespace}:probe-lease`;
const live = () => fleet.workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);
const byInstance = (id: string | null) => fleet.workers.find((w) => w.instanceId === id);

/** The holder every live worker agrees on (as shown by getStatus()). */
async function agreedHolder(): Promise<FleetWorker | undefined> {
  const holders = new Set((await Promise.all(live().map((w) => w.request('status')))).map((s) => s.coordination.probeLeaseHolder));
  const [holder] = [...holders];
  return holders.size === 1 && holder ? byInstance(holder) : undefined;
}

async function waitForHolder(timeoutMs: number, not?: FleetWorker): Promise<FleetWorker> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const holder = await agreedHolder();
    if (holder && holder !== not) return holder;
    if (Date.now() > deadline) throw new Error(`no agreed lease holder within ${timeoutMs}ms`);
    await sleep(20);
  }
}

/** Health checks reported by the workers in [from, to), and the probes the primary received. */
async function probesDuring(ms: number): Promise<{ checks: WorkerEvent[]; received: number }> {
  const mark = fleet.events.length;
  const before = primary.count('/models');
  await sleep(ms);
  const checks = fleet.events.slice(mark).filter((e) => e.event === 'healthcheck');
  return { checks, received: primary.count('/models') - before };
}

/** Exactly one probe per interval: the right count, all by `holder`, never two in one interval. */
function expectOnePerWindow(checks: WorkerEvent[], received: number, ms: number, holder: FleetWorker): void {
  const windows = ms / INTERVAL_MS;
  expect(checks.length).toBeGreaterThanOrEqual(windows - 1);
  expect(checks.length).toBeLessThanOrEqual(windows + 1);
  expect(received).toBe(checks.length);
  expect(new Set(checks.map((e) => e.worker))).toEqual(new Set([holder.index]));
  expect(checks.every((e) => e.data.ok === true)).toBe(true);
  const times = checks.map((e) => e.at).sort((a, b) => a - b);
  for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThan(INTERVAL_MS / 2);
}

describe('probe lease across 8 processes', () => {
  it('lets exactly one process probe the primary per interval', async () => {
    const holder = await waitForHolder(5000);
    const lease = await admin.get(leaseKey());
    expect(lease).toBe(holder.instanceId);
    expect(Number(await admin.pTTL(leaseKey()))).toBeGreaterThan(0);
    expect(Number(await admin.pTTL(leaseKey()))).toBeLessThanOrEqual(LEASE_MS);

    const { checks, received } = await probesDuring(8 * INTERVAL_MS);
    console.log(
      `[redis lease] ${checks.length} probes in ${8 * INTERVAL_MS} ms (interval ${INTERVAL_MS} ms), all by worker ${holder.index}`,
    );
    expectOnePerWindow(checks, received, 8 * INTERVAL_MS, holder);
  }, 30_000);

  it('hands the lease to another process within the lease time when the prober is killed', async () => {
    const holder = await waitForHolder(5000);
    const killedAt = Date.now();
    await fleet.kill(holder);
    // Redis says who holds it: the first other instance to take it after the expiry.
    const taken = await waitFor(
      async () => {
        const id = await admin.get(leaseKey());
        return id !== null && id !== holder.instanceId ? id : undefined;
      },
      LEASE_MS + 2000,
      'another instance to take the lease',
      10,
    );
    const takeoverMs = Date.now() - killedAt;
    const next = await waitForHolder(2000, holder);
    expect(next.instanceId).toBe(taken);
    console.log(`[redis lease] prober killed: worker ${next.index} took the lease after ${takeoverMs} ms (lease ${LEASE_MS} ms)`);
    expect(next).not.toBe(holder);
    // The lease expires at most LEASE_MS after the last renewal; candidates try every LEASE_MS / 3.
    expect(takeoverMs).toBeLessThan(LEASE_MS + LEASE_MS / 3 + 200);
    // The new holder probes, alone, once per interval.
    await waitFor(() => fleet.events.some((e) => e.event === 'healthcheck' && e.worker === next.index && e.at > killedAt), 3000, 'a probe');
    const { checks, received } = await probesDuring(4 * INTERVAL_MS);
    expectOnePerWindow(checks, received, 4 * INTERVAL_MS, next);
    // Replace the killed worker, for the next test.
    await fleet.add(holder.index);
  }, 30_000);

  it('releases the lease on close(), and another process takes it', async () => {
    const holder = await waitForHolder(5000);
    await holder.request('close');
    // Released, not expired: gone right away (an expiry would take up to the whole lease time).
    expect(await admin.get(leaseKey())).not.toBe(holder.instanceId);
    await new Promise((resolve) => (holder.child.exitCode === null ? holder.child.once('exit', resolve) : resolve(null)));
    const next = await waitForHolder(1500, holder);
    expect(next).not.toBe(holder);
  }, 30_000);
});
