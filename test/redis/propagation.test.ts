/**
 * Eight processes share one real redis-server. A breaker that opens (or closes) in one of them is
 * followed by all the others within 1 s: through pub/sub in a few milliseconds, and through the
 * periodic re-read when the subscribers are gone. Also checks what Redis holds: namespaced keys
 * with TTLs, and no URL or key.
 */
import { createClient } from 'redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisServer, type RedisServer } from '../support/redis-server.js';
import { startUpstream, type Upstream } from '../support/upstream.js';
import { recover, startFleet, summary, trackUnhandled, trip, waitFor, type Fleet, type Propagation } from './fleet.js';

const API_KEY = 'sk-redis-propagation-SECRET-0123456789';
const SIZE = 8;

const unhandled = trackUnhandled();

let server: RedisServer;
let primary: Upstream;
let fallback: Upstream;
let fleet: Fleet;
let admin: ReturnType<typeof createClient>;

beforeAll(async () => {
  server = await redisServer();
  [primary, fallback] = await Promise.all([startUpstream({ name: 'primary' }), startUpstream({ name: 'fallback' })]);
  fleet = await startFleet({ size: SIZE, redisUrl: server.url, primaryUrl: primary.url, fallbackUrl: fallback.url, apiKey: API_KEY });
  admin = createClient({ url: server.url });
  admin.on('error', () => {});
  await admin.connect();
  // Every worker connected and subscribed.
  await waitFor(async () => (await numsub()) === SIZE, 10_000, 'every worker to subscribe', 20);
  await waitFor(async () => (await fleet.all('status')).every((s) => s.coordination.active), 5000, 'every worker active', 20);
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

async function numsub(): Promise<number> {
  const reply = await admin.sendCommand<[string, number]>(['PUBSUB', 'NUMSUB', `${fleet.namespace}:changes`]);
  return Number(reply[1]);
}

function report(label: string, samples: number[]): void {
  const s = summary(samples);
  console.log(`[redis propagation] ${label}: ${s.n} switches, p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms`);
}

/** `rounds` trips and recoveries, each started by a different worker. */
async function cycles(rounds: number, offset: number): Promise<{ switches: number[]; recoveries: number[] }> {
  const switches: number[] = [];
  const recoveries: number[] = [];
  for (let k = 0; k < rounds; k++) {
    const tripper = fleet.workers[(k + offset) % SIZE]!;
    const recoverer = fleet.workers[(k + offset + 3) % SIZE]!;
    const tripped: Propagation = await trip(fleet, tripper);
    // Every other worker applied the change once, and says which worker saw the 502.
    const opened = tripped.remote.filter((e) => e.data.state === 'open').sort((a, b) => a.worker - b.worker);
    expect(opened.map((e) => [e.worker, e.data])).toEqual(
      fleet.workers
        .filter((w) => w !== tripper)
        .map((w) => [w.index, { endpoint: 'primary', state: 'open', instanceId: tripper.instanceId }]),
    );
    switches.push(...tripped.latencies);
    const recovered = await recover(fleet, recoverer);
    const closed = recovered.remote.filter((e) => e.data.state === 'closed').sort((a, b) => a.worker - b.worker);
    expect(closed.map((e) => [e.worker, e.data.instanceId])).toEqual(
      fleet.workers.filter((w) => w !== recoverer).map((w) => [w.index, recoverer.instanceId]),
    );
    recoveries.push(...recovered.latencies);
  }
  return { switches, recoveries };
}

describe('Redis coordination across 8 processes', () => {
  it('propagates 20 trips and 20 recoveries to every process within 1 s (pub/sub)', async () => {
    const { switches, recoveries } = await cycles(20, 0);
    report('switch (pub/sub)', switches);
    report('recover (pub/sub)', recoveries);
    expect(switches).toHaveLength(20 * (SIZE - 1));
    expect(recoveries).toHaveLength(20 * (SIZE - 1));
    expect(Math.max(...switches, ...recoveries)).toBeLessThan(1000);
    // Back where it started: every worker on the primary, calls served by it.
    const answers = await fleet.all<string>('call');
    expect(answers).toEqual(Array(SIZE).fill('hello from primary'));
  }, 60_000);

  it('still propagates within the re-read interval when every pub/sub subscriber is killed', async () => {
    // Subscribers lose the right to subscribe, then their connections: they cannot come back.
    await admin.sendCommand(['ACL', 'SETUSER', 'default', '-subscribe', '-psubscribe', '-ssubscribe']);
    try {
      await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
      await waitFor(async () => (await numsub()) === 0, 5000, 'no subscriber left', 20);
      const { switches, recoveries } = await cycles(4, 5);
      expect(await numsub()).toBe(0);
      report('switch (re-read only)', switches);
      report('recover (re-read only)', recoveries);
      expect(Math.max(...switches, ...recoveries)).toBeLessThan(1000);
      // Without pub/sub the re-read (every 500 ms) carried them: not all within a few milliseconds.
      expect(Math.max(...switches, ...recoveries)).toBeGreaterThan(20);
    } finally {
      await admin.sendCommand(['ACL', 'SETUSER', 'default', '+subscribe', '+psubscribe', '+ssubscribe']);
    }
    // The subscribers come back by themselves, and pub/sub carries changes again.
    await waitFor(async () => (await numsub()) === SIZE, 10_000, 'every worker to subscribe again', 20);
    const { switches } = await cycles(2, 1);
    expect(Math.max(...switches)).toBeLessThan(1000);
  }, 60_000);

  it('keeps namespaced keys with TTLs in Redis, and no URL or key', async () => {
    const tripper = fleet.workers[2]!;
    const messages: string[] = [];
    const listener = admin.duplicate();
    listener.on('error', () => {});
    await listener.connect();
    await listener.subscribe(`${fleet.namespace}:changes`, (message) => messages.push(message));
    await trip(fleet, tripper);
    await recover(fleet, tripper);
    await waitFor(() => messages.length >= 2, 2000, 'two messages on the channel');
    await listener.close();

    const keys: string[] = [];
    for await (const batch of admin.scanIterator({ MATCH: '*', COUNT: 1000 })) keys.push(...batch);
    expect(keys).toHaveLength(1); // the primary's state (the fallback never changed; no probe lease without health timers)
    const secrets = [API_KEY, primary.url, fallback.url, primary.origin, '127.0.0.1', 'http', 'sk-'];
    for (const key of keys) {
      expect(key.startsWith(`${fleet.namespace}:`)).toBe(true);
      expect(Number(await admin.sendCommand(['PTTL', key]))).toBeGreaterThan(0);
      const value = (await admin.get(key)) ?? '';
      for (const secret of secrets) expect(`${key} ${value}`).not.toContain(secret);
      // Endpoints are known by a hash, not by name.
      expect(key).not.toMatch(/primary|fallback/);
    }
    const states = keys.filter((k) => k.startsWith(`${fleet.namespace}:endpoint:`));
    expect(states).toHaveLength(1);
    const primaryState = JSON.parse(String(await admin.get(states[0]!)));
    expect(Object.keys(primaryState).sort()).toEqual(['endpoint', 'epoch', 'instanceId', 'state']);
    for (const message of messages) {
      for (const secret of secrets) expect(message).not.toContain(secret);
      expect(JSON.parse(message)).toMatchObject({ instanceId: tripper.instanceId, epoch: expect.any(Number) });
    }
  }, 30_000);
});
