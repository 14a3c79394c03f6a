/**
 * Eight processes share one real redis-server. A breaker that opens (or closes) in one of them is
 * followed by all the others: through pub/sub (in a cluster whose re-read never comes), and
 * through the periodic re-read when the subscribers are gone. Also checks what Redis holds:
 * namespaced keys with TTLs, and no URL or key. Switch times are reported, not asserted.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { clusterHooks, FLEET_TEST_MS, PATIENCE_MS, recover, summary, trip, waitFor, type Cluster, type Propagation } from './fleet.js';

const API_KEY = 'sk-redis-propagation-SECRET-0123456789';
const SIZE = 8;

const clusters = clusterHooks();
/** Re-reads only at start: whatever reaches another process came by pub/sub. */
let pubsub: Cluster;

beforeAll(async () => {
  pubsub = await clusters.start({ size: SIZE, apiKey: API_KEY, syncIntervalMs: 600_000, commandTimeoutMs: 10_000 });
}, FLEET_TEST_MS);

function report(label: string, samples: number[]): void {
  const s = summary(samples);
  console.log(`[redis propagation] ${label}: ${s.n} switches, p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms`);
}

/** `rounds` trips and recoveries, each started by a different worker. */
async function cycles({ fleet }: Cluster, rounds: number, offset: number): Promise<{ switches: number[]; recoveries: number[] }> {
  const switches: number[] = [];
  const recoveries: number[] = [];
  for (let k = 0; k < rounds; k++) {
    const tripper = fleet.workers[(k + offset) % SIZE]!;
    const recoverer = fleet.workers[(k + offset + 3) % SIZE]!;
    const tripped: Propagation = await trip(fleet, tripper);
    // Every other worker applied the change once, and says which worker saw the 502.
    const opened = tripped.remote.filter((e) => e.data.state === 'open');
    expect(opened.map((e) => [e.worker, e.data])).toEqual(
      fleet.workers
        .filter((w) => w !== tripper)
        .map((w) => [w.index, { endpoint: 'primary', state: 'open', instanceId: tripper.instanceId }]),
    );
    switches.push(...tripped.latencies);
    const recovered = await recover(fleet, recoverer);
    const closed = recovered.remote.filter((e) => e.data.state === 'closed');
    expect(closed.map((e) => [e.worker, e.data.instanceId])).toEqual(
      fleet.workers.filter((w) => w !== recoverer).map((w) => [w.index, recoverer.instanceId]),
    );
    recoveries.push(...recovered.latencies);
  }
  return { switches, recoveries };
}

describe('Redis coordination across 8 processes', () => {
  it(
    'propagates 20 trips and 20 recoveries to every process by pub/sub',
    async () => {
      const { switches, recoveries } = await cycles(pubsub, 20, 0);
      report('switch (pub/sub)', switches);
      report('recover (pub/sub)', recoveries);
      expect(switches).toHaveLength(20 * (SIZE - 1));
      expect(recoveries).toHaveLength(20 * (SIZE - 1));
      // Back where it started: every worker on the primary, calls served by it.
      const answers = await pubsub.fleet.all<string>('call');
      expect(answers).toEqual(Array(SIZE).fill('hello from primary'));
    },
    FLEET_TEST_MS,
  );

  it(
    'still propagates by the re-read when every pub/sub subscriber is killed',
    async () => {
      // Its own cluster (and Redis): re-reads every 500 ms (the default), and the ACL change below
      // touches no other cluster.
      const cluster = await clusters.start({ size: SIZE, apiKey: API_KEY, commandTimeoutMs: 10_000 });
      const admin = await cluster.admin();
      // Subscribers lose the right to subscribe, then their connections: they cannot come back.
      await admin.sendCommand(['ACL', 'SETUSER', 'default', '-subscribe', '-psubscribe', '-ssubscribe']);
      try {
        await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
        await waitFor(async () => (await cluster.numsub()) === 0, PATIENCE_MS, 'no subscriber left', 20);
        const { switches, recoveries } = await cycles(cluster, 4, 5);
        // Nobody could subscribe meanwhile: the re-read carried every change.
        expect(await cluster.numsub()).toBe(0);
        report('switch (re-read only)', switches);
        report('recover (re-read only)', recoveries);
      } finally {
        await admin.sendCommand(['ACL', 'SETUSER', 'default', '+subscribe', '+psubscribe', '+ssubscribe']);
      }
      // The subscribers come back by themselves, and changes propagate as before.
      await waitFor(async () => (await cluster.numsub()) === SIZE, PATIENCE_MS, 'every worker to subscribe again', 20);
      await cycles(cluster, 2, 1);
    },
    FLEET_TEST_MS,
  );

  it(
    'keeps namespaced keys with TTLs in Redis, and no URL or key',
    async () => {
      const { fleet, primary, fallback } = pubsub;
      const admin = await pubsub.admin();
      const tripper = fleet.workers[2]!;
      const messages: string[] = [];
      const listener = admin.duplicate();
      listener.on('error', () => {});
      await listener.connect();
      await listener.subscribe(`{${fleet.namespace}}:changes`, (message) => messages.push(message));
      await trip(fleet, tripper);
      await recover(fleet, tripper);
      await waitFor(() => messages.length >= 2, PATIENCE_MS, 'two messages on the channel');
      await listener.close();

      const keys: string[] = [];
      for await (const batch of admin.scanIterator({ MATCH: '*', COUNT: 1000 })) keys.push(...batch);
      expect(keys).toHaveLength(1); // the primary's state (the fallback never changed; no probe lease without health timers)
      const secrets = [API_KEY, primary.url, fallback.url, primary.origin, '127.0.0.1', 'http', 'sk-'];
      for (const key of keys) {
        expect(key.startsWith(`{${fleet.namespace}}:`)).toBe(true);
        expect(Number(await admin.sendCommand(['PTTL', key]))).toBeGreaterThan(0);
        const value = (await admin.get(key)) ?? '';
        for (const secret of secrets) expect(`${key} ${value}`).not.toContain(secret);
        // Endpoints are known by a hash, not by name.
        expect(key).not.toMatch(/primary|fallback/);
      }
      const states = keys.filter((k) => k.startsWith(`{${fleet.namespace}}:endpoint:`));
      expect(states).toHaveLength(1);
      const primaryState = JSON.parse(String(await admin.get(states[0]!)));
      expect(Object.keys(primaryState).sort()).toEqual(['endpoint', 'epoch', 'instanceId', 'state']);
      for (const message of messages) {
        for (const secret of secrets) expect(message).not.toContain(secret);
        expect(JSON.parse(message)).toMatchObject({ instanceId: tripper.instanceId, epoch: expect.any(Number) });
      }
    },
    FLEET_TEST_MS,
  );
});
