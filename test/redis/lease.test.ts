/**
 * One health prober per cluster: eight processes with health timers share one Redis, and exactly
 * one of them (the holder of the probe lease) probes the primary. When it dies, another takes the
 * lease once it expires; when it closes, it releases the lease at once.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import {
  clusterHooks,
  expectOnlyHolderProbes,
  FLEET_TEST_MS,
  PATIENCE_MS,
  probeWindow,
  waitFor,
  waitForHolder,
  type Cluster,
} from './fleet.js';

const SIZE = 8;
const INTERVAL_MS = 400;
/** Long enough that a holder slowed down by a loaded machine still renews it in time. */
const LEASE_MS = 3000;

const clusters = clusterHooks();
let cluster: Cluster;
let admin: Awaited<ReturnType<Cluster['admin']>>;

beforeAll(async () => {
  cluster = await clusters.start({
    size: SIZE,
    apiKey: 'sk-redis-lease-SECRET-0123456789',
    healthIntervalMs: INTERVAL_MS,
    leaseMs: LEASE_MS,
    // A lease question that times out answers "probe locally": a second prober. Only Redis
    // trouble may do that, never a slow machine.
    commandTimeoutMs: 10_000,
  });
  admin = await cluster.admin();
}, FLEET_TEST_MS);

const leaseKey = () => `{${cluster.fleet.namespace}}:probe-lease`;

describe('probe lease across 8 processes', () => {
  it(
    'lets exactly one process probe the primary',
    async () => {
      const holder = await waitForHolder(cluster);
      expect(await admin.get(leaseKey())).toBe(holder.instanceId);
      const ttl = Number(await admin.pTTL(leaseKey()));
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(LEASE_MS);

      const window = await probeWindow(cluster, holder, 8);
      console.log(
        `[redis lease] ${window.checks.length} probes, all by worker ${holder.index}; ${window.decisions.length} lease answers to ${SIZE} timers`,
      );
      expectOnlyHolderProbes(window, holder);
    },
    FLEET_TEST_MS,
  );

  it(
    'hands the lease to another process once it expires, when the prober is killed',
    async () => {
      const holder = await waitForHolder(cluster);
      const killedAt = Date.now();
      await cluster.fleet.kill(holder);
      // Redis says who holds it: the first other instance to take it after the expiry.
      const taken = await waitFor(
        async () => {
          const id = await admin.get(leaseKey());
          return id !== null && id !== holder.instanceId && id;
        },
        LEASE_MS + PATIENCE_MS,
        'another instance to take the lease',
        10,
      );
      console.log(`[redis lease] prober killed: the lease was taken over after ${Date.now() - killedAt} ms (lease ${LEASE_MS} ms)`);
      const next = await waitForHolder(cluster, holder);
      expect(next.instanceId).toBe(taken);
      expect(next).not.toBe(holder);
      // The new holder probes, alone.
      expectOnlyHolderProbes(await probeWindow(cluster, next, 4), next);
      // Replace the killed worker, for the next test.
      await cluster.fleet.add(holder.index);
    },
    FLEET_TEST_MS,
  );

  it(
    'releases the lease on close(), and another process takes it',
    async () => {
      const holder = await waitForHolder(cluster);
      expect(await admin.get(leaseKey())).toBe(holder.instanceId);
      // The worker's close awaits the release (its commands wait up to 10 s, far beyond the reply).
      await holder.request('close');
      // Released, not expired: the holder renewed it within the last LEASE_MS / 3, so only a release
      // can have removed it by now.
      expect(await admin.get(leaseKey())).not.toBe(holder.instanceId);
      await new Promise((resolve) => (holder.child.exitCode === null ? holder.child.once('exit', resolve) : resolve(null)));
      const next = await waitForHolder(cluster, holder);
      expect(next).not.toBe(holder);
    },
    FLEET_TEST_MS,
  );
});
