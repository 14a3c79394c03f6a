/**
 * The same coordination over ioredis clients: propagation of trips and recoveries between
 * processes by pub/sub, and one prober per cluster that another replaces when it dies.
 */
import { describe, expect, it } from 'vitest';
import {
  clusterHooks,
  expectOnlyHolderProbes,
  FLEET_TEST_MS,
  PATIENCE_MS,
  probeWindow,
  recover,
  summary,
  trip,
  waitFor,
  waitForHolder,
  type ClusterOptions,
} from './fleet.js';

const SIZE = 4;

const clusters = clusterHooks();

const ioredisCluster = (options: Partial<ClusterOptions>) =>
  clusters.start({ size: SIZE, library: 'ioredis', apiKey: 'sk-redis-ioredis-SECRET-0123456789', commandTimeoutMs: 10_000, ...options });

describe('Redis coordination over ioredis', () => {
  it(
    'propagates trips and recoveries between processes by pub/sub',
    async () => {
      // No re-read within the test (the only one runs at start): only pub/sub can carry a change.
      const { fleet } = await ioredisCluster({ syncIntervalMs: 600_000 });
      const switches: number[] = [];
      for (let k = 0; k < 6; k++) {
        const tripper = fleet.workers[k % SIZE]!;
        const tripped = await trip(fleet, tripper);
        expect(tripped.remote.map((e) => [e.worker, e.data])).toEqual(
          fleet.workers
            .filter((w) => w !== tripper)
            .map((w) => [w.index, { endpoint: 'primary', state: 'open', instanceId: tripper.instanceId }]),
        );
        const recoverer = fleet.workers[(k + 1) % SIZE]!;
        const recovered = await recover(fleet, recoverer);
        expect(recovered.remote.map((e) => [e.worker, e.data.state, e.data.instanceId])).toEqual(
          fleet.workers.filter((w) => w !== recoverer).map((w) => [w.index, 'closed', recoverer.instanceId]),
        );
        switches.push(...tripped.latencies, ...recovered.latencies);
      }
      const s = summary(switches);
      console.log(`[redis ioredis] ${s.n} switches, p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms`);
      expect(await fleet.all<string>('call')).toEqual(Array(SIZE).fill('hello from primary'));
    },
    FLEET_TEST_MS,
  );

  it(
    'lets one process probe, and another take over when it dies',
    async () => {
      const leaseMs = 3000;
      const cluster = await ioredisCluster({ healthIntervalMs: 300, leaseMs });
      const admin = await cluster.admin();
      const holder = await waitForHolder(cluster);
      expectOnlyHolderProbes(await probeWindow(cluster, holder, 5), holder);

      const killedAt = Date.now();
      await cluster.fleet.kill(holder);
      const taken = await waitFor(
        async () => {
          const id = await admin.get(`{${cluster.fleet.namespace}}:probe-lease`);
          return id !== null && id !== holder.instanceId && id;
        },
        leaseMs + PATIENCE_MS,
        'another instance to take the lease',
        10,
      );
      console.log(`[redis ioredis] prober killed: lease taken over after ${Date.now() - killedAt} ms (lease ${leaseMs} ms)`);
      const next = await waitForHolder(cluster, holder);
      expect(next.instanceId).toBe(taken);
      expectOnlyHolderProbes(await probeWindow(cluster, next, 2), next);
    },
    FLEET_TEST_MS,
  );
});
