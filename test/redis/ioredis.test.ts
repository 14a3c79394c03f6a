/**
 * The same coordination over ioredis clients: propagation of trips and recoveries between
 * processes, and one prober per cluster that another replaces when it dies.
 */
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisServer, type RedisServer } from '../support/redis-server.js';
import { startUpstream, type Upstream } from '../support/upstream.js';
import { recover, sleep, startFleet, summary, trackUnhandled, trip, waitFor, type Fleet } from './fleet.js';

const SIZE = 4;

const unhandled = trackUnhandled();

let server: RedisServer;
let primary: Upstream;
let fallback: Upstream;
let admin: Redis;
const fleets: Fleet[] = [];

beforeAll(async () => {
  server = await redisServer();
  [primary, fallback] = await Promise.all([startUpstream({ name: 'primary' }), startUpstream({ name: 'fallback' })]);
  admin = new Redis(server.url);
  admin.on('error', () => {});
}, 30_000);

afterAll(async () => {
  await Promise.all(fleets.map((f) => f.close()));
  admin?.disconnect();
  await Promise.all([primary?.close(), fallback?.close()]);
  await server?.close();
  unhandled.stop();
  for (const f of fleets) expect(f.fatal).toEqual([]);
  expect(unhandled.reasons).toEqual([]);
});

async function fleetOf(healthIntervalMs: number | null, leaseMs?: number): Promise<Fleet> {
  const fleet = await startFleet({
    size: SIZE,
    library: 'ioredis',
    redisUrl: server.url,
    primaryUrl: primary.url,
    fallbackUrl: fallback.url,
    apiKey: 'sk-redis-ioredis-SECRET-0123456789',
    healthIntervalMs,
    ...(leaseMs !== undefined && { leaseMs }),
  });
  fleets.push(fleet);
  await waitFor(async () => (await fleet.all('status')).every((s) => s.coordination.active), 5000, 'every ioredis worker to be active', 20);
  return fleet;
}

describe('Redis coordination over ioredis', () => {
  it('propagates trips and recoveries between processes within 1 s', async () => {
    const fleet = await fleetOf(null);
    const switches: number[] = [];
    for (let k = 0; k < 6; k++) {
      const tripper = fleet.workers[k % SIZE]!;
      const tripped = await trip(fleet, tripper);
      expect(tripped.remote.map((e) => e.data.instanceId)).toEqual(Array(SIZE - 1).fill(tripper.instanceId));
      const recovered = await recover(fleet, fleet.workers[(k + 1) % SIZE]!);
      switches.push(...tripped.latencies, ...recovered.latencies);
    }
    const s = summary(switches);
    console.log(`[redis ioredis] ${s.n} switches, p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms`);
    expect(s.max).toBeLessThan(1000);
    expect(await fleet.all<string>('call')).toEqual(Array(SIZE).fill('hello from primary'));
  }, 30_000);

  it('lets one process probe per interval, and another take over when it dies', async () => {
    const interval = 300;
    const leaseMs = 900;
    const fleet = await fleetOf(interval, leaseMs);
    const holderOf = async () => {
      const ids = new Set((await fleet.all('status')).map((s) => s.coordination.probeLeaseHolder));
      return ids.size === 1 ? fleet.workers.find((w) => ids.has(w.instanceId)) : undefined;
    };
    let holder = await holderOf();
    for (let i = 0; !holder && i < 100; i++, await sleep(50)) holder = await holderOf();
    expect(holder).toBeDefined();
    const mark = fleet.events.length;
    await sleep(6 * interval);
    const checks = fleet.events.slice(mark).filter((e) => e.event === 'healthcheck');
    expect(new Set(checks.map((e) => e.worker))).toEqual(new Set([holder!.index]));
    expect(checks.length).toBeGreaterThanOrEqual(5);
    expect(checks.length).toBeLessThanOrEqual(7);

    const killedAt = Date.now();
    await fleet.kill(holder!);
    let taken: string | null = null;
    while (taken === null || taken === holder!.instanceId) {
      taken = await admin.get(`${fleet.namespace}:probe-lease`);
      if (Date.now() - killedAt > leaseMs + 2000) throw new Error('nobody took the lease');
      await sleep(10);
    }
    const takeoverMs = Date.now() - killedAt;
    console.log(`[redis ioredis] prober killed: lease taken over after ${takeoverMs} ms (lease ${leaseMs} ms)`);
    expect(takeoverMs).toBeLessThan(leaseMs + leaseMs / 3 + 200);
    const next = fleet.workers.find((w) => w.instanceId === taken)!;
    const after = fleet.events.length;
    await sleep(3 * interval + 100);
    const later = fleet.events.slice(after).filter((e) => e.event === 'healthcheck');
    expect(later.length).toBeGreaterThanOrEqual(2);
    expect(new Set(later.map((e) => e.worker))).toEqual(new Set([next.index]));
  }, 30_000);
});
