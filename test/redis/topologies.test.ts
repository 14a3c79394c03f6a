/**
 * createRedisCoordination() in one process against the Redis deployments production runs, for
 * real (test/support/redis-topologies.ts): a Redis Cluster (3 masters, 3 replicas) and a master
 * with a replica behind three Sentinels, each through node-redis (`createCluster()`,
 * `createSentinel()`) and ioredis (`new Cluster()`, `new Redis({ sentinels })`).
 *
 * Each combination gets its own deployment, started once (beforeAll); its last test kills the
 * master that serves the namespace and waits for the fleet to converge on the promoted replica.
 * Every wait is for something that must happen, bounded (PATIENCE_MS).
 */
import { Cluster, Redis } from 'ioredis';
import { createCluster, createSentinel } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCoordination, type Coordination, type RedisClientLike, type RemoteChange } from '../../src/index.js';
import { ask, redisCluster, redisSentinels } from '../support/redis-topologies.js';
import { PATIENCE_MS, sleep, trackUnhandled, waitFor } from './fleet.js';

const ENDPOINTS = [
  { name: 'primary', id: 'aaaaaaaaaaaaaaaa' },
  { name: 'fallback', id: 'bbbbbbbbbbbbbbbb' },
  { name: 'backup', id: 'cccccccccccccccc' },
];
/** For coordinations whose Redis answers: no command may count as timed out on a slow machine. */
const PATIENT = { commandTimeoutMs: 10_000 };
/** Short timers, as in coordination.test.ts: re-reads every 100 ms, a lease renewed every second. */
const TIMERS = { syncIntervalMs: 100, leaseMs: 3000 };
/** Longest a call of the coordination API may take before it counts as hung (its own bound is commandTimeoutMs). */
const HANG_MS = 10_000;
const TEST_MS = 60_000;
/** Starting a deployment: ~2 s for the cluster, ~7 s for the Sentinels, more on a loaded machine. */
const SETUP_MS = 120_000;

type Library = 'node-redis' | 'ioredis';
type Topology = 'cluster' | 'sentinel';

/** One running deployment, whatever its topology. */
interface Deployment {
  /** A connected client of `library` for this deployment (closed after the test). */
  connect(library: Library): Promise<RedisClientLike>;
  /** Ports of every data node running now (masters and replicas), where a subscriber may sit. */
  dataPorts(): Promise<number[]>;
  /** Kills the master serving `key` and resolves once a replica took over. */
  killMasterOf(key: string): Promise<{ promotedInMs: number }>;
  close(): Promise<void>;
}

const unhandled = trackUnhandled();
const cleanups: (() => unknown)[] = [];

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  expect(unhandled.reasons).toEqual([]);
});

afterAll(() => unhandled.stop());

/** Resolves once an ioredis client (or cluster) is ready. */
async function ioredisReady(client: Redis | Cluster): Promise<void> {
  await waitFor(() => client.status === 'ready', PATIENCE_MS, 'the ioredis client to be ready');
}

async function startCluster(): Promise<Deployment> {
  const cluster = await redisCluster();
  return {
    async connect(library) {
      if (library === 'node-redis') {
        const client = createCluster({ rootNodes: cluster.seeds.map((s) => ({ url: `redis://${s.host}:${s.port}` })) });
        client.on('error', () => {});
        cleanups.push(() => client.destroy());
        await client.connect();
        return client;
      }
      const client = new Cluster(cluster.seeds);
      client.on('error', () => {});
      cleanups.push(() => client.disconnect());
      await ioredisReady(client);
      return client;
    },
    dataPorts: () => Promise.resolve(cluster.nodes.filter((n) => n.running).map((n) => n.port)),
    killMasterOf: (key) => cluster.killMasterOf(key),
    close: () => cluster.close(),
  };
}

async function startSentinels(): Promise<Deployment> {
  const deployment = await redisSentinels();
  const { name, sentinels } = deployment;
  return {
    async connect(library) {
      if (library === 'node-redis') {
        const client = createSentinel({ name, sentinelRootNodes: sentinels });
        client.on('error', () => {});
        cleanups.push(() => client.destroy());
        await client.connect();
        return client;
      }
      const client = new Redis({ sentinels, name });
      client.on('error', () => {});
      cleanups.push(() => client.disconnect());
      await ioredisReady(client);
      return client;
    },
    async dataPorts() {
      // The master, and the replicas it lists (`slave0:ip=127.0.0.1,port=6380,...`).
      const master = (await deployment.master()).port;
      const info = String(await ask(master, ['INFO', 'replication']));
      return [master, ...[...info.matchAll(/^slave\d+:.*?port=(\d+)/gm)].map((m) => Number(m[1]))];
    },
    killMasterOf: () => deployment.killMaster(),
    close: () => deployment.close(),
  };
}

let namespaceCount = 0;
const freshNamespace = () => `topo-${process.pid}-${++namespaceCount}`;

interface Started {
  coordination: Coordination;
  changes: RemoteChange[];
}

function started(coordination: Coordination): Started {
  const changes: RemoteChange[] = [];
  coordination.start(ENDPOINTS, (change) => changes.push(change));
  cleanups.push(() => coordination.close());
  return { coordination, changes };
}

const isActive = (c: Started) => c.coordination.status().active;

/**
 * Resolves what `promise` resolves; records a rejection, or no answer within HANG_MS, in `problems`.
 */
async function settles<T>(what: string, promise: Promise<T>, problems: string[]): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hung = new Promise<typeof HUNG>((resolve) => (timer = setTimeout(() => resolve(HUNG), HANG_MS)));
  try {
    const value = await Promise.race([promise, hung]);
    if (value === HUNG) {
      problems.push(`${what} did not settle within ${HANG_MS}ms`);
      return undefined;
    }
    return value;
  } catch (error) {
    problems.push(`${what} rejected: ${String(error)}`);
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}
const HUNG = Symbol('hung');

/**
 * Load on two coordinations until stopped: `a` publishes the primary's state, flipping it, and
 * both ask for the lease, look an id up and report their status, over and over. Whatever threw,
 * rejected, hung or answered something of the wrong kind lands in `problems`.
 */
function churn(a: Started, b: Started, id: string) {
  const problems: string[] = [];
  const counts = { publishes: 0, answered: 0, inactive: 0 };
  let running = true;
  const done = (async () => {
    for (let i = 0; running; i++) {
      try {
        expect(a.coordination.publish({ endpoint: 'primary', state: i % 2 === 0 ? 'open' : 'closed' })).toBeUndefined();
        counts.publishes++;
      } catch (error) {
        problems.push(`publish threw: ${String(error)}`);
      }
      const answers = await Promise.all([
        settles('a.shouldProbe()', a.coordination.shouldProbe(), problems),
        settles('b.shouldProbe()', b.coordination.shouldProbe(), problems),
        settles('a.findHome()', a.coordination.findHome!([id]), problems),
        settles('b.findHome()', b.coordination.findHome!([id]), problems),
      ]);
      const [probeA, probeB, homeA, homeB] = answers;
      if (typeof probeA !== 'boolean' || typeof probeB !== 'boolean') problems.push(`shouldProbe() answered ${probeA}, ${probeB}`);
      for (const home of [homeA, homeB]) {
        if (home !== undefined && (home.id !== id || home.endpoint !== 'fallback'))
          problems.push(`findHome() answered ${JSON.stringify(home)}`);
      }
      try {
        for (const c of [a, b]) if (!c.coordination.status().active) counts.inactive++;
      } catch (error) {
        problems.push(`status() threw: ${String(error)}`);
      }
      counts.answered++;
      await sleep(20);
    }
  })();
  return {
    problems,
    counts,
    async stop() {
      running = false;
      await done;
    },
  };
}

const COMBINATIONS: { topology: Topology; library: Library }[] = [
  { topology: 'cluster', library: 'node-redis' },
  { topology: 'cluster', library: 'ioredis' },
  { topology: 'sentinel', library: 'node-redis' },
  { topology: 'sentinel', library: 'ioredis' },
];

describe.each(COMBINATIONS)('Redis coordination on a Redis $topology through $library', { timeout: TEST_MS }, ({ topology, library }) => {
  let deployment: Deployment | undefined;
  const label = `[redis ${topology} ${library}]`;

  beforeAll(async () => {
    const at = Date.now();
    deployment = topology === 'cluster' ? await startCluster() : await startSentinels();
    console.log(`${label} deployment up in ${Date.now() - at} ms`);
  }, SETUP_MS);

  afterAll(async () => {
    // Whatever a test left open goes first (afterEach ran already), then the servers.
    await deployment?.close();
  }, SETUP_MS);

  const coordinate = async (namespace: string, instanceId: string, options: object = {}) =>
    started(
      createRedisCoordination({ client: await deployment!.connect(library), namespace, instanceId, ...TIMERS, ...PATIENT, ...options }),
    );

  /**
   * Subscribers of the namespace's channels (the namespace, then `}` or `:`, whatever the exact
   * name), over every data node: a cluster client subscribes on any node, master or replica.
   */
  const subscribers = async (ns: string) => {
    let total = 0;
    for (const port of await deployment!.dataPorts()) {
      const channels = (await ask(port, ['PUBSUB', 'CHANNELS', `*${ns}[}:]*`])) as string[];
      if (channels.length === 0) continue;
      const counts = (await ask(port, ['PUBSUB', 'NUMSUB', ...channels])) as (string | number)[];
      for (let i = 1; i < counts.length; i += 2) total += Number(counts[i]);
    }
    return total;
  };

  it('shares a change by pub/sub, and with a process that starts later by its re-read', async () => {
    const ns = freshNamespace();
    const a = await coordinate(ns, 'a');
    // No re-read within the test but the one at start: only pub/sub can bring b a change.
    const b = await coordinate(ns, 'b', { syncIntervalMs: 600_000 });
    await waitFor(async () => (await subscribers(ns)) === 2, PATIENCE_MS, 'both subscribers', 20);

    a.coordination.publish({ endpoint: 'primary', state: 'open' });
    await waitFor(() => b.changes.length > 0, PATIENCE_MS, 'b to hear the change');
    expect(b.changes).toEqual([{ endpoint: 'primary', state: 'open', instanceId: 'a', epoch: expect.any(Number) }]);

    // c subscribes after the change was published: it can learn it only from the stored state,
    // which its re-read fetches with one MGET over the lease and every endpoint's key. On a
    // cluster that needs all of them in one slot (else CROSSSLOT).
    const c = await coordinate(ns, 'c');
    await waitFor(() => c.changes.length > 0, PATIENCE_MS, 'c to read the stored change');
    expect(c.changes).toEqual([{ endpoint: 'primary', state: 'open', instanceId: 'a', epoch: b.changes[0]!.epoch }]);

    await waitFor(() => [a, b, c].every(isActive), PATIENCE_MS, 'every coordination to be active');
    expect([a, b, c].map((x) => x.coordination.status())).toEqual(
      ['a', 'b', 'c'].map((instanceId) => ({ backend: 'redis', active: true, instanceId, probeLeaseHolder: null })),
    );
  });

  it('finds the ids one process remembered from another', async () => {
    const ns = freshNamespace();
    const a = await coordinate(ns, 'a');
    const b = await coordinate(ns, 'b');
    await waitFor(() => isActive(a) && isActive(b), PATIENCE_MS, 'both active');

    a.coordination.rememberHomes!(['resp_on_fallback', 'file_on_fallback'], 'fallback', 60_000);
    a.coordination.rememberHomes!(['resp_on_backup'], 'backup', 60_000);
    // The SETs are fire and forget: b finds them once they are stored.
    const lookup = ['resp_unknown', 'resp_on_fallback', 'file_on_fallback', 'resp_on_backup'];
    const found = await waitFor(
      async () => {
        const [first, second, third] = await Promise.all([
          b.coordination.findHome!(lookup),
          b.coordination.findHome!(['file_on_fallback']),
          b.coordination.findHome!(['resp_unknown', 'resp_on_backup']),
        ]);
        return first && second && third && { first, second, third };
      },
      PATIENCE_MS,
      'b to find the ids',
      20,
    );
    // The first of the ids asked for (in their order) that has a home, and the home's name in b.
    expect(found).toEqual({
      first: { id: 'resp_on_fallback', endpoint: 'fallback' },
      second: { id: 'file_on_fallback', endpoint: 'fallback' },
      third: { id: 'resp_on_backup', endpoint: 'backup' },
    });
    // An id nobody stored, asked once the others are there.
    expect(await b.coordination.findHome!(['resp_unknown'])).toBeUndefined();
  });

  it('gives the probe lease to exactly one of three processes', async () => {
    const ns = freshNamespace();
    const fleet = [await coordinate(ns, 'a'), await coordinate(ns, 'b'), await coordinate(ns, 'c')];
    await waitFor(() => fleet.every(isActive), PATIENCE_MS, 'every coordination to be active');

    const answers = await Promise.all(fleet.map((x) => x.coordination.shouldProbe()));
    expect(answers.filter(Boolean)).toHaveLength(1);
    const holder = fleet[answers.indexOf(true)]!.coordination.instanceId;
    // Asked again (the holder renews): the same single holder; the others learn it.
    expect(await Promise.all(fleet.map((x) => x.coordination.shouldProbe()))).toEqual(answers);
    await waitFor(() => fleet.every((x) => x.coordination.status().probeLeaseHolder === holder), PATIENCE_MS, 'everyone to see the holder');
  });

  // Last: it leaves the deployment with one master fewer.
  it('survives a failover of Redis: nothing throws or hangs, and the fleet converges on the promoted master', async () => {
    const ns = freshNamespace();
    // A command timeout the churn below can wait out many times over within HANG_MS.
    const options = { commandTimeoutMs: 1000 };
    const a = await coordinate(ns, 'a', options);
    const b = await coordinate(ns, 'b', options);
    await waitFor(() => isActive(a) && isActive(b), PATIENCE_MS, 'both active');
    a.coordination.rememberHomes!(['file_failover'], 'fallback', 60_000);
    await waitFor(async () => (await b.coordination.findHome!(['file_failover']))?.endpoint, PATIENCE_MS, 'b to find the id', 20);

    const load = churn(a, b, 'file_failover');
    await waitFor(() => load.counts.answered >= 5, PATIENCE_MS, 'the churn to run');
    const { promotedInMs } = await deployment!.killMasterOf(`{${ns}}:x`);
    const promotedAt = Date.now();
    const answeredBefore = load.counts.answered;

    // New changes after the promotion, one each way, on endpoints the churn does not touch.
    a.coordination.publish({ endpoint: 'fallback', state: 'open' });
    b.coordination.publish({ endpoint: 'backup', state: 'open' });
    const heard = (x: Started, endpoint: string, from: string) => x.changes.some((c) => c.endpoint === endpoint && c.instanceId === from);
    await waitFor(
      () => heard(b, 'fallback', 'a') && heard(a, 'backup', 'b') && isActive(a) && isActive(b),
      PATIENCE_MS,
      'the fleet to converge on the promoted master',
    );
    const convergedInMs = Date.now() - promotedAt;
    // The churn kept going through the failover and after it.
    await waitFor(() => load.counts.answered >= answeredBefore + 5, PATIENCE_MS, 'the churn to go on');
    await load.stop();
    console.log(
      `${label} master killed, replica promoted in ${promotedInMs} ms; fleet converged ${convergedInMs} ms after the promotion ` +
        `(${load.counts.answered} rounds of calls, ${load.counts.inactive} inactive status readings)`,
    );

    expect(load.problems).toEqual([]);
    expect(b.changes.filter((c) => c.endpoint === 'fallback')).toEqual([
      { endpoint: 'fallback', state: 'open', instanceId: 'a', epoch: expect.any(Number) },
    ]);
    expect(a.changes.filter((c) => c.endpoint === 'backup')).toEqual([
      { endpoint: 'backup', state: 'open', instanceId: 'b', epoch: expect.any(Number) },
    ]);
    expect([a, b].map((x) => x.coordination.status().active)).toEqual([true, true]);
  });
});
