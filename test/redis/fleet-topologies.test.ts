/**
 * Eight processes on the Redis deployments production runs: a Redis Cluster (three masters, three
 * replicas) and a master with a replica behind three Sentinels, each with node-redis and ioredis
 * clients (test/support/redis-topologies.ts). A breaker change one worker sees reaches the seven
 * others within the bound of 1 s, and one worker probes the primary. Then, with every
 * worker calling, the master that holds the namespace's slot is killed: no call fails, and once a
 * replica is promoted the fleet shares changes again.
 *
 * One deployment per topology, a fresh namespace per fleet. On the cluster, each fleet's namespace
 * lives on a master of its own with its replica (the first failover leaves its master without
 * one); behind the Sentinels, the killed master comes back as the replica while the next fleet
 * starts.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RedisServer } from '../support/redis-server.js';
import { ask, redisCluster, redisSentinels, type RedisCluster, type RedisSentinels } from '../support/redis-topologies.js';
import {
  clusterHooks,
  expectOnlyHolderProbes,
  FLEET_TEST_MS,
  PATIENCE_MS,
  probeWindow,
  senderOf,
  summary,
  waitFor,
  waitForHolder,
  type Deployment,
  type Fleet,
  type FleetCluster,
  type FleetWorker,
  type WorkerEvent,
} from './fleet.js';
import type { LoadStats } from './worker.js';

const SIZE = 8;
const API_KEY = 'sk-redis-topologies-SECRET-0123456789';
const HEALTH_INTERVAL_MS = 400;
/** Long enough that a holder slowed down by a loaded machine still renews it in time. */
const LEASE_MS = 3000;
/**
 * Far above a loaded machine's slowest answer (a lease question that times out would make a
 * second prober), short enough that a command to a dead master gives up soon.
 */
const COMMAND_TIMEOUT_MS = 1000;
/** The bound: every other worker switches within this of the worker that saw the change. */
const BOUND_MS = 1000;
/** Trips and recoveries per fleet: 7 switches each way per round. */
const ROUNDS = 8;
/** Pause between two calls of a worker's call loop. */
const CALL_EVERY_MS = 25;

const LIBRARIES = [
  { library: 'redis', label: 'node-redis' },
  { library: 'ioredis', label: 'ioredis' },
] as const;

const numsub = async (port: number, channel: string) => Number(((await ask(port, ['PUBSUB', 'NUMSUB', channel])) as [string, number])[1]);

/** What the tests need of a topology, whichever it is. */
interface Topology {
  readonly name: 'cluster' | 'sentinel';
  readonly deployment: Deployment;
  /**
   * A fresh namespace for the next fleet, whose keys live on a master with a replica: on the
   * cluster, one no earlier fleet used; behind the Sentinels, the master that was killed last
   * starts coming back as the replica (killMasterOf waits for it).
   */
  namespace(): Promise<string>;
  /** Kills the master that holds `key`; resolves once a replica took over. */
  killMasterOf(key: string): Promise<{ killed: RedisServer; promotedInMs: number }>;
}

const randomNamespace = () => `topo-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

function clusterTopology(cluster: RedisCluster): Topology {
  // Masters already given a namespace (or promoted in a failover): the next fleet avoids them.
  const used = new Set<number>();
  return {
    name: 'cluster',
    deployment: {
      target: { kind: 'cluster', seeds: cluster.seeds },
      // Classic pub/sub: each node counts the subscribers connected to it.
      async subscribers(channel) {
        const counts = await Promise.all(cluster.nodes.filter((n) => n.running).map((n) => numsub(n.port, channel)));
        return counts.reduce((a, b) => a + b, 0);
      },
    },
    async namespace() {
      for (;;) {
        const namespace = randomNamespace();
        const master = await cluster.masterOf(`{${namespace}}:x`);
        if (used.has(master.port)) continue;
        used.add(master.port);
        return namespace;
      }
    },
    async killMasterOf(key) {
      const result = await cluster.killMasterOf(key);
      used.add((await cluster.masterOf(key)).port);
      return result;
    },
  };
}

function sentinelTopology(sentinels: RedisSentinels): Topology {
  let killed: RedisServer | undefined;
  let restoring: Promise<void> = Promise.resolve();
  // The old master comes back empty; the Sentinels make it the new master's replica.
  const restore = async (server: RedisServer) => {
    await server.start();
    await waitFor(
      async () => {
        const info = String(await ask(server.port, ['INFO', 'replication']).catch(() => ''));
        if (!info.includes('role:slave') || !info.includes('master_link_status:up')) return false;
        for (const sentinel of sentinels.sentinels) {
          const replicas = (await ask(sentinel.port, ['SENTINEL', 'REPLICAS', sentinels.name]).catch(() => [])) as string[][];
          const mine = replicas.find((r) => r[r.indexOf('port') + 1] === String(server.port));
          if (!mine || /down|disconnected/.test(mine[mine.indexOf('flags') + 1] ?? 'down')) return false;
        }
        return true;
      },
      60_000,
      'the killed master to come back as a replica every Sentinel sees',
      100,
    );
  };
  return {
    name: 'sentinel',
    deployment: {
      target: { kind: 'sentinel', name: sentinels.name, sentinels: sentinels.sentinels },
      // Both libraries subscribe on the master.
      subscribers: async (channel) => numsub((await sentinels.master()).port, channel),
    },
    namespace() {
      // While the next fleet starts: a replica for its failover.
      if (killed) {
        restoring = restore(killed);
        restoring.catch(() => {}); // awaited by the next kill
        killed = undefined;
      }
      return Promise.resolve(randomNamespace());
    },
    async killMasterOf() {
      await restoring;
      const result = await sentinels.killMaster();
      killed = result.killed;
      return result;
    },
  };
}

/** A switch of one other worker, relative to the breaker change of the worker that saw it. */
interface Switch {
  worker: number;
  round: number;
  to: 'fallback' | 'primary';
  ms: number;
}

/** The first switch to `to` of every live worker but `origin` since `mark`, once all have switched. */
function switches(fleet: Fleet, origin: FleetWorker, mark: number, to: string, what: string): Promise<WorkerEvent[]> {
  const others = fleet.live().filter((w) => w !== origin);
  return waitFor(
    () => {
      const recent = fleet.events.slice(mark);
      const hits = others.map((w) => recent.find((e) => e.worker === w.index && e.event === 'switched' && e.data.to === to));
      return hits.every(Boolean) && (hits as WorkerEvent[]);
    },
    PATIENCE_MS,
    what,
  );
}

/**
 * `origin` sees its primary fail (one 502, to it only), then recover (its probes): every other
 * worker switches to the fallback, then back. Switch times are relative to origin's breaker
 * changes (wall clocks of the processes, in ms).
 */
async function failAndRecover(fleet: Fleet, origin: FleetWorker, round: number): Promise<Switch[]> {
  const mark = fleet.events.length;
  const { openedAt } = await origin.request<{ openedAt: number }>('trip');
  const away = await switches(
    fleet,
    origin,
    mark,
    'fallback',
    `every other worker to follow worker ${origin.index}'s failure (round ${round})`,
  );
  // Its own health timer may have closed the breaker already: `recover` then returns that close.
  const { closedAt } = await origin.request<{ closedAt: number }>('recover');
  const back = await switches(
    fleet,
    origin,
    mark,
    'primary',
    `every other worker to follow worker ${origin.index}'s recovery (round ${round})`,
  );
  // Each of them heard it from origin (not from a probe of its own).
  const heard = (state: string) =>
    new Set(
      fleet.events
        .slice(mark)
        .filter((e) => e.event === 'remote' && e.data.state === state && e.data.instanceId === origin.instanceId)
        .map((e) => e.worker),
    );
  const others = new Set(
    fleet
      .live()
      .filter((w) => w !== origin)
      .map((w) => w.index),
  );
  expect(heard('open')).toEqual(others);
  expect(heard('closed')).toEqual(others);
  return [
    ...away.map((e) => ({ worker: e.worker, round, to: 'fallback' as const, ms: e.at - openedAt })),
    ...back.map((e) => ({ worker: e.worker, round, to: 'primary' as const, ms: e.at - closedAt })),
  ];
}

const hooks = clusterHooks();

let cluster: RedisCluster | undefined;
let sentinels: RedisSentinels | undefined;

beforeAll(async () => {
  // Both deployments at once: the Sentinels take the longest to agree.
  const [c, s] = await Promise.allSettled([redisCluster(), redisSentinels('fleet-master')]);
  if (c.status === 'fulfilled') cluster = c.value;
  if (s.status === 'fulfilled') sentinels = s.value;
  if (c.status === 'rejected') throw c.reason;
  if (s.status === 'rejected') throw s.reason;
}, FLEET_TEST_MS);

afterAll(async () => {
  await Promise.all([cluster?.close(), sentinels?.close()]);
}, FLEET_TEST_MS);

const TOPOLOGIES = [
  { title: 'a Redis Cluster (3 masters, 3 replicas)', make: () => clusterTopology(cluster!) },
  { title: 'a master and a replica behind 3 Sentinels', make: () => sentinelTopology(sentinels!) },
];

for (const { title, make } of TOPOLOGIES) {
  describe(`8 processes on ${title}`, () => {
    let topology: Topology;
    beforeAll(() => {
      topology = make();
    });

    for (const { library, label } of LIBRARIES) {
      describe(`with ${label} clients`, () => {
        let fc: FleetCluster;
        const tag = () => `${topology.name} ${label}`;

        beforeAll(async () => {
          fc = await hooks.startOn(topology.deployment, {
            size: SIZE,
            apiKey: API_KEY,
            library,
            namespace: await topology.namespace(),
            healthIntervalMs: HEALTH_INTERVAL_MS,
            leaseMs: LEASE_MS,
            commandTimeoutMs: COMMAND_TIMEOUT_MS,
          });
        }, FLEET_TEST_MS);

        afterAll(async () => {
          await fc?.close();
        }, FLEET_TEST_MS);

        it(
          'lets one worker probe, and brings a failure and a recovery it sees to the 7 others within 1 s',
          async () => {
            const { fleet } = fc;
            const holder = await waitForHolder(fc);
            const window = await probeWindow(fc, holder, 5);
            console.log(
              `[topology lease] ${tag()}: ${window.checks.length} probes, all by worker ${holder.index}; ${window.decisions.length} lease answers to ${SIZE} timers`,
            );
            expectOnlyHolderProbes(window, holder);

            // The prober sees the failure: the one worker whose own probes can then recover it.
            const samples: Switch[] = [];
            for (let round = 0; round < ROUNDS; round++) samples.push(...(await failAndRecover(fleet, holder, round)));
            expect(samples).toHaveLength(ROUNDS * 2 * (SIZE - 1));
            const ms = (to: Switch['to']) => samples.filter((s) => s.to === to).map((s) => s.ms);
            for (const [what, values] of [
              ['switch', ms('fallback')],
              ['switch back', ms('primary')],
              ['both', samples.map((s) => s.ms)],
            ] as const) {
              const s = summary(values);
              console.log(
                `[topology propagation] topology=${topology.name} library=${label} ${what}: p50 ${s.p50} ms, p99 ${s.p99} ms, max ${s.max} ms, n ${s.n}`,
              );
            }
            const late = samples
              .filter((s) => s.ms > BOUND_MS)
              .map((s) => `worker ${s.worker} to ${s.to} ${Math.round(s.ms)} ms (round ${s.round})`);
            expect(late, `switches later than ${BOUND_MS} ms after worker ${holder.index}'s breaker change (the issue's bound)`).toEqual(
              [],
            );

            // Back where it started: every call served by the primary.
            expect(await fleet.all<string>('call')).toEqual(Array(SIZE).fill('hello from primary'));
          },
          FLEET_TEST_MS,
        );

        it(
          'fails no call while the master of the namespace fails over, and shares a new failure once a replica is promoted',
          async () => {
            const { fleet, primary, fallback } = fc;
            const origin = fleet.workers[1]!;
            const others = fleet.live().filter((w) => w !== origin);
            await fleet.all('stats'); // from zero
            const callsSince = (upstream: typeof primary, mark: number) => {
              const counts = new Map<number | undefined, number>();
              for (const r of upstream.requests.slice(mark))
                if (r.path.endsWith('/chat/completions')) counts.set(senderOf(r), (counts.get(senderOf(r)) ?? 0) + 1);
              return (worker: FleetWorker) => counts.get(worker.index) ?? 0;
            };
            /** Waits until every live worker has sent 5 calls to `upstream` since `mark`. */
            const everyWorkerCalled = (upstream: typeof primary, mark: number, what: string) =>
              waitFor(
                () => {
                  const calls = callsSince(upstream, mark);
                  return fleet.live().every((w) => calls(w) >= 5);
                },
                PATIENCE_MS,
                what,
                20,
              );
            const primaryMark = primary.requests.length;
            await fleet.all('load', CALL_EVERY_MS);
            await everyWorkerCalled(primary, primaryMark, 'every worker to be calling');

            // Calls go on meanwhile: the coordination must not fail one, whatever its commands do.
            const killMark = primary.requests.length;
            const { promotedInMs } = await topology.killMasterOf(`{${fleet.namespace}}:x`);
            const promotedAt = Date.now();
            const duringFailover = callsSince(primary, killMark);
            expect(
              fleet
                .live()
                .filter((w) => duringFailover(w) === 0)
                .map((w) => w.index),
              'workers that made no call between the kill and the promotion',
            ).toEqual([]);

            // A new failure in one worker, at once: a long rate-limit wait (a hold no health probe
            // can end, unlike a 502), so that every other worker must get it, by pub/sub or re-read.
            const mark = fleet.events.length;
            await origin.request('trip-long-wait');
            const held = fleet.events
              .slice(mark)
              .find((e) => e.worker === origin.index && e.event === 'breaker' && e.data.state === 'open');
            expect(held, `worker ${origin.index}'s breaker to open on the long wait`).toBeDefined();
            const followed = await switches(
              fleet,
              origin,
              mark,
              'fallback',
              `every other worker to follow worker ${origin.index}'s failure after the promotion`,
            );
            const convergedAt = Math.max(...followed.map((e) => e.at));
            expect(followed.map((e) => e.worker)).toEqual(others.map((w) => w.index));
            let inactive: number[] = [];
            await waitFor(
              async () => {
                const statuses = await fc.statuses();
                inactive = fleet
                  .live()
                  .filter((_, i) => !statuses[i].coordination.active)
                  .map((w) => w.index);
                return inactive.length === 0;
              },
              PATIENCE_MS,
              'every worker to trust Redis again',
              50,
            ).catch((error: Error) => {
              throw new Error(`${error.message} (workers ${inactive.join(', ')} do not)`);
            });
            const activeAt = Date.now();
            // Pub/sub comes back too (the clients move their subscriber connections to a live node).
            await waitFor(async () => (await fc.numsub()) === SIZE, PATIENCE_MS, 'every worker to subscribe again', 50);
            const subscribedAt = Date.now();

            // And after: more calls from every worker, now to the fallback.
            const fallbackMark = fallback.requests.length;
            await everyWorkerCalled(fallback, fallbackMark, 'every worker to call on after the failover');
            await fleet.all('load', false);
            const stats = await fleet.all<LoadStats>('stats');
            const ok = stats.reduce((n, s) => n + s.ok, 0);
            const failed = stats.reduce((n, s) => n + s.failed, 0);
            const slowest = Math.max(...stats.map((s) => s.maxMs));
            const lags = summary(followed.map((e) => e.at - held!.at));
            console.log(
              `[topology failover] topology=${topology.name} library=${label}: promotion ${promotedInMs} ms; ` +
                `a failure right after it reached all ${others.length} others ${Math.round(convergedAt - promotedAt)} ms after the promotion ` +
                `(from the failure: p50 ${lags.p50} ms, max ${lags.max} ms); every worker active again ${activeAt - promotedAt} ms ` +
                `and subscribed again ${subscribedAt - promotedAt} ms after it; ` +
                `${ok} calls (${fleet.live().reduce((n, w) => n + duringFailover(w), 0)} between the kill and the promotion), ${failed} failed, slowest ${Math.round(slowest)} ms`,
            );
            expect(
              stats.flatMap((s) => s.errors),
              'calls that failed during the failover',
            ).toEqual([]);
            expect(failed).toBe(0);
            expect(ok).toBeGreaterThan(0);
          },
          FLEET_TEST_MS,
        );
      });
    }
  });
}
