/**
 * A cluster of worker processes (worker.ts, forked with `--import tsx`) sharing one Redis, driven
 * over IPC. Every event a worker reports lands in `fleet.events`, with the worker's wall-clock time.
 *
 * `clusterHooks()` is the setup every fleet test file shares: its own redis-server, a primary and
 * a fallback upstream, the fleet, an admin connection, and the checks after all (no fatal error
 * in a worker, no unhandled rejection in the test process). `startOn()` runs a fleet on a Redis
 * deployment the test file started itself instead (a Redis Cluster, a master behind Sentinels).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createClient } from 'redis';
import { afterAll, expect } from 'vitest';
import { redisServer, type RedisServer } from '../support/redis-server.js';
import { startUpstream, type RecordedRequest, type Upstream } from '../support/upstream.js';
import type { LoadStats, RedisTarget, WorkerConfig, WorkerMessage, WorkerRequest } from './worker.js';

export type { RedisTarget } from './worker.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

/**
 * How long a wait for something that must happen may take. Generous on purpose: a loaded 2-core
 * machine (two suites at once) can be slow to get there, and a wait that succeeds costs nothing.
 */
export const PATIENCE_MS = 30_000;
/** Test timeout of a fleet test: several such waits, and the fleet's start. */
export const FLEET_TEST_MS = 180_000;
/** createRedisCoordination()'s default `syncIntervalMs`. */
const DEFAULT_SYNC_MS = 500;

export interface WorkerEvent {
  event: string;
  worker: number;
  /** Wall-clock time in the worker, fractional milliseconds. */
  at: number;
  data: any;
}

export interface FleetOptions {
  size: number;
  /** A single redis-server: shorthand for `target: { kind: 'server', url }`. */
  redisUrl?: string;
  /** The Redis deployment the workers connect to (a server, a Redis Cluster, Sentinels); wins over `redisUrl`. */
  target?: RedisTarget;
  primaryUrl: string;
  fallbackUrl: string;
  apiKey: string;
  library?: 'redis' | 'ioredis';
  namespace?: string;
  healthIntervalMs?: number | null;
  leaseMs?: number;
  syncIntervalMs?: number;
  commandTimeoutMs?: number;
  /** Per worker: its `affinity` option and whether it shares ids (see WorkerConfig). @default the defaults */
  perWorker?: (index: number) => Pick<WorkerConfig, 'affinity' | 'shareHomes'>;
}

export interface FleetWorker {
  readonly index: number;
  readonly instanceId: string;
  readonly child: ChildProcess;
  request<T = any>(cmd: WorkerRequest['cmd'], arg?: unknown): Promise<T>;
  stats(): Promise<LoadStats>;
}

export interface Fleet {
  /** Key prefix of this cluster (random unless given). */
  readonly namespace: string;
  readonly workers: FleetWorker[];
  readonly events: WorkerEvent[];
  /** Messages of unhandled rejections and uncaught exceptions in workers. */
  readonly fatal: string[];
  /** Adds a worker (e.g. to replace a killed one). */
  add(index: number): Promise<FleetWorker>;
  /** Kills a worker with SIGKILL and waits for it to exit. */
  kill(worker: FleetWorker): Promise<void>;
  /** The workers that have not exited. */
  live(): FleetWorker[];
  /** Every live worker, in parallel. */
  all<T = any>(cmd: WorkerRequest['cmd'], arg?: unknown): Promise<T[]>;
  close(): Promise<void>;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` (sync, or async for checks that ask the workers or Redis) until it returns
 * something other than undefined/false. `everyMs` spaces out checks that cost a round trip.
 */
export async function waitFor<T>(
  check: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs: number,
  what: string,
  everyMs = 5,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** Collects unhandled rejections of this test file's process, so that afterAll can assert none. */
export function trackUnhandled(): { readonly reasons: unknown[]; stop(): void } {
  const reasons: unknown[] = [];
  const onUnhandled = (reason: unknown) => reasons.push(reason);
  process.on('unhandledRejection', onUnhandled);
  return { reasons, stop: () => process.off('unhandledRejection', onUnhandled) };
}

/** Nearest-rank percentile of unsorted values. */
export function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

export function summary(values: readonly number[]): { n: number; p50: number; p99: number; max: number } {
  const round = (x: number) => Math.round(x * 100) / 100;
  return { n: values.length, p50: round(percentile(values, 50)), p99: round(percentile(values, 99)), max: round(Math.max(...values)) };
}

/** The API keys worker `index` uses: its own, so that an upstream can tell who sent a request. */
export const workerKeys = (apiKey: string, index: number) => ({ primary: `${apiKey}-w${index}`, fallback: `${apiKey}-fallback-w${index}` });

/** The worker that sent a request to an upstream (by its API key), or undefined. */
export function senderOf(request: RecordedRequest): number | undefined {
  const match = /-w(\d+)$/.exec(String(request.headers.authorization ?? ''));
  return match ? Number(match[1]) : undefined;
}

const isLive = (w: FleetWorker) => w.child.exitCode === null && w.child.signalCode === null;

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const events: WorkerEvent[] = [];
  const fatal: string[] = [];
  const workers: FleetWorker[] = [];
  const namespace = options.namespace ?? `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  const redis: RedisTarget | undefined =
    options.target ?? (options.redisUrl === undefined ? undefined : { kind: 'server', url: options.redisUrl });
  if (!redis) throw new Error('startFleet: give `redisUrl` or `target`');

  const add = async (index: number): Promise<FleetWorker> => {
    const config: WorkerConfig = {
      index,
      instanceId: `w${index}-${Math.random().toString(36).slice(2, 6)}`,
      redis,
      primaryUrl: options.primaryUrl,
      fallbackUrl: options.fallbackUrl,
      library: options.library ?? 'redis',
      namespace,
      apiKey: workerKeys(options.apiKey, index).primary,
      fallbackApiKey: workerKeys(options.apiKey, index).fallback,
      healthIntervalMs: options.healthIntervalMs ?? null,
      ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }),
      ...(options.syncIntervalMs !== undefined && { syncIntervalMs: options.syncIntervalMs }),
      ...(options.commandTimeoutMs !== undefined && { commandTimeoutMs: options.commandTimeoutMs }),
      ...options.perWorker?.(index),
    };
    const child = fork(WORKER, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, WORKER_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.add(child);
    const waiting = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
    let nextId = 1;
    let ready: () => void;
    const started = new Promise<void>((resolve, reject) => {
      ready = resolve;
      // A worker that dies before it is ready (it cannot load the library, say) fails the start.
      child.once('exit', (code, signal) => reject(new Error(`worker ${index} exited before it was ready (${signal ?? code})`)));
    });
    child.on('message', (message: WorkerMessage) => {
      if ('id' in message) {
        const waiter = waiting.get(message.id);
        waiting.delete(message.id);
        if (message.ok) waiter?.resolve(message.result);
        else waiter?.reject(new Error(`worker ${index}: ${message.error}`));
        return;
      }
      events.push(message);
      if (message.event === 'fatal') fatal.push(`worker ${index}: ${String(message.data)}`);
      if (message.event === 'ready') ready();
    });
    child.once('exit', () => {
      for (const waiter of waiting.values()) waiter.reject(new Error(`worker ${index} exited`));
      waiting.clear();
    });
    const request = <T>(cmd: WorkerRequest['cmd'], arg?: unknown) =>
      new Promise<T>((resolve, reject) => {
        const id = nextId++;
        waiting.set(id, { resolve, reject });
        child.send({ id, cmd, arg } satisfies WorkerRequest);
      });
    const worker: FleetWorker = { index, instanceId: config.instanceId, child, request, stats: () => request<LoadStats>('stats') };
    await started;
    workers[index] = worker;
    return worker;
  };

  const live = () => workers.filter(isLive);
  const children = new Set<ChildProcess>();

  try {
    await Promise.all(Array.from({ length: options.size }, (_, i) => add(i)));
  } catch (error) {
    // None of them may outlive a failed start.
    for (const child of children) child.kill('SIGKILL');
    throw error;
  }
  return {
    namespace,
    workers,
    events,
    fatal,
    add,
    async kill(worker) {
      if (!isLive(worker)) return;
      const exited = new Promise((resolve) => worker.child.once('exit', resolve));
      worker.child.kill('SIGKILL');
      await exited;
    },
    live,
    all: (cmd, arg) => Promise.all(live().map((w) => w.request(cmd, arg))),
    async close() {
      await Promise.all(
        live().map(async (w) => {
          const exited = new Promise((resolve) => w.child.once('exit', resolve));
          const timer = setTimeout(() => w.child.kill('SIGKILL'), 10_000);
          await w.request('close').catch(() => {});
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}

/** Where and how a fleet runs, whatever its Redis: upstreams, the fleet, and what Redis sees of it. */
export interface FleetCluster {
  readonly primary: Upstream;
  readonly fallback: Upstream;
  readonly fleet: Fleet;
  /** Subscribers of the cluster's channel, as Redis counts them. */
  numsub(): Promise<number>;
  /** `getStatus()` of every live worker. */
  statuses(): Promise<any[]>;
  /** Stops the load, the fleet and the upstreams (once; later calls wait for the first). */
  close(): Promise<void>;
}

/** A fleet on its own redis-server: everything a fleet test file used to build for itself. */
export interface Cluster extends FleetCluster {
  readonly server: RedisServer;
  /** A node-redis connection of the test's own to the cluster's Redis (connected on first use). */
  admin(): Promise<ReturnType<typeof createClient>>;
}

/** A Redis deployment a fleet runs on (started by the test file), and how it counts subscribers. */
export interface Deployment {
  readonly target: RedisTarget;
  /** Subscribers of `channel`, summed over every node a subscriber may be connected to. */
  subscribers(channel: string): Promise<number>;
}

export interface DeploymentOptions extends Omit<FleetOptions, 'redisUrl' | 'target' | 'primaryUrl' | 'fallbackUrl'> {
  /** Upstreams that keep stored state (responses, files, ...) as the real API does. @default false */
  stored?: boolean;
}

export interface ClusterOptions extends DeploymentOptions {
  /** `false`: the Redis port is reserved, nothing listens there until `cluster.server.start()`. @default true */
  redis?: boolean;
}

/**
 * Starts upstreams and a fleet on `deployment`. With `ready` (Redis up), resolves once every worker
 * is active and subscribed to the channel, so that no change can slip past one.
 */
async function startOn(deployment: Deployment, options: DeploymentOptions, ready = true): Promise<FleetCluster> {
  const { stored = false, ...fleetOptions } = options;
  const [primary, fallback] = await Promise.all([startUpstream({ name: 'primary', stored }), startUpstream({ name: 'fallback', stored })]);
  let fleet: Fleet | undefined;
  let closing: Promise<void> | undefined;
  const cluster: FleetCluster = {
    primary,
    fallback,
    get fleet() {
      return fleet as Fleet;
    },
    numsub: () => deployment.subscribers(`{${cluster.fleet.namespace}}:changes`),
    statuses: () => cluster.fleet.all('status'),
    close() {
      closing ??= (async () => {
        await fleet?.all('load', false).catch(() => {});
        await fleet?.close();
        await Promise.all([primary.close(), fallback.close()]);
      })();
      return closing;
    },
  };
  try {
    fleet = await startFleet({ ...fleetOptions, target: deployment.target, primaryUrl: primary.url, fallbackUrl: fallback.url });
    if (ready) {
      let subscribed = 0;
      await waitFor(async () => (subscribed = await cluster.numsub()) === options.size, PATIENCE_MS, 'every worker to subscribe', 20).catch(
        (error: Error) => {
          throw new Error(`${error.message} (${subscribed} of ${options.size} subscribed)`);
        },
      );
      // A worker is active once a command got through: its first re-read, unless that came before
      // its client was connected and the next one is too far off (then its first publish does it).
      if ((options.syncIntervalMs ?? DEFAULT_SYNC_MS) < PATIENCE_MS) {
        await waitFor(
          async () => (await cluster.statuses()).every((s) => s.coordination.active),
          PATIENCE_MS,
          'every worker to be active',
          20,
        );
      }
    }
  } catch (error) {
    await cluster.close().catch(() => {});
    throw error;
  }
  return cluster;
}

/**
 * Starts a cluster: its own redis-server, upstreams and fleet. With Redis running, resolves once
 * every worker is active and subscribed to the channel, so that no change can slip past one.
 */
async function startCluster(options: ClusterOptions): Promise<Cluster> {
  const { redis = true, ...deploymentOptions } = options;
  const server = await redisServer({ start: redis });
  let admin: ReturnType<typeof createClient> | undefined;
  const connectAdmin = async () => {
    if (!admin) {
      admin = createClient({ url: server.url });
      admin.on('error', () => {});
      await admin.connect();
    }
    if (!admin.isReady) await waitFor(() => admin!.isReady, PATIENCE_MS, 'the admin connection to Redis');
    return admin;
  };
  const deployment: Deployment = {
    target: { kind: 'server', url: server.url },
    subscribers: async (channel) => Number((await (await connectAdmin()).sendCommand<[string, number]>(['PUBSUB', 'NUMSUB', channel]))[1]),
  };
  const closeRest = async () => {
    await admin?.close().catch(() => {});
    await server.close();
  };
  let base: FleetCluster;
  try {
    base = await startOn(deployment, deploymentOptions, redis);
  } catch (error) {
    await closeRest().catch(() => {});
    throw error;
  }
  let closing: Promise<void> | undefined;
  return {
    server,
    primary: base.primary,
    fallback: base.fallback,
    fleet: base.fleet,
    admin: connectAdmin,
    numsub: () => base.numsub(),
    statuses: () => base.statuses(),
    close() {
      closing ??= base.close().then(closeRest);
      return closing;
    },
  };
}

/**
 * The hooks of a fleet test file: `start()` starts a cluster (in beforeAll or in a test; each has
 * its own Redis), `startOn()` a fleet on a deployment of the file's own; after all tests every
 * cluster is closed, then no worker may have reported a fatal error and the test process no
 * unhandled rejection.
 */
export function clusterHooks(): {
  start(options: ClusterOptions): Promise<Cluster>;
  startOn(deployment: Deployment, options: DeploymentOptions): Promise<FleetCluster>;
} {
  const unhandled = trackUnhandled();
  const clusters: FleetCluster[] = [];
  afterAll(async () => {
    await Promise.all(clusters.map((c) => c.close()));
    unhandled.stop();
    expect(clusters.flatMap((c) => c.fleet?.fatal ?? [])).toEqual([]);
    expect(unhandled.reasons).toEqual([]);
  }, FLEET_TEST_MS);
  return {
    async start(options) {
      const cluster = await startCluster(options);
      clusters.push(cluster);
      return cluster;
    },
    async startOn(deployment, options) {
      const cluster = await startOn(deployment, options);
      clusters.push(cluster);
      return cluster;
    },
  };
}

/** What a change did across the other workers: when each switched, and the `remote` events. */
export interface Propagation {
  /** Per other worker: its switch time minus the originating breaker change, in ms (reported, never asserted). */
  latencies: number[];
  /** The `remote` events of the other workers for this change, by worker. */
  remote: WorkerEvent[];
}

async function propagate(
  fleet: Fleet,
  origin: FleetWorker,
  act: () => Promise<number>,
  to: 'primary' | 'fallback',
  timeoutMs: number,
): Promise<Propagation> {
  const mark = fleet.events.length;
  const changedAt = await act();
  const others = fleet.live().filter((w) => w !== origin);
  const switched = await waitFor(
    () => {
      const recent = fleet.events.slice(mark);
      const hits = others.map((w) => recent.find((e) => e.worker === w.index && e.event === 'switched' && e.data.to === to));
      return hits.every(Boolean) && (hits as WorkerEvent[]);
    },
    timeoutMs,
    `every other worker to switch to ${to}`,
  );
  const remote = fleet.events
    .slice(mark)
    .filter((e) => e.event === 'remote' && e.worker !== origin.index)
    .sort((a, b) => a.worker - b.worker);
  return { latencies: switched.map((e) => e.at - changedAt), remote };
}

/** Opens the primary's breaker in `origin` (one 502, to it only) and waits for the others to follow. */
export function trip(fleet: Fleet, origin: FleetWorker, timeoutMs = PATIENCE_MS): Promise<Propagation> {
  return propagate(fleet, origin, async () => (await origin.request<{ openedAt: number }>('trip')).openedAt, 'fallback', timeoutMs);
}

/** Closes the primary's breaker in `origin` (health probes) and waits for the others to follow. */
export function recover(fleet: Fleet, origin: FleetWorker, timeoutMs = PATIENCE_MS): Promise<Propagation> {
  return propagate(fleet, origin, async () => (await origin.request<{ closedAt: number }>('recover')).closedAt, 'primary', timeoutMs);
}

/** The probe-lease holder every live worker agrees on (as `getStatus()` shows it), if any. */
export async function agreedHolder(cluster: FleetCluster): Promise<FleetWorker | undefined> {
  const holders = new Set((await cluster.statuses()).map((s) => s.coordination.probeLeaseHolder as string | null));
  const [holder] = [...holders];
  return holders.size === 1 && holder ? cluster.fleet.workers.find((w) => w.instanceId === holder) : undefined;
}

/** Waits until every live worker agrees on one holder (other than `not`). */
export function waitForHolder(cluster: FleetCluster, not?: FleetWorker): Promise<FleetWorker> {
  return waitFor(
    async () => {
      const holder = await agreedHolder(cluster);
      return holder !== not && holder;
    },
    PATIENCE_MS,
    'every worker to agree on a probe-lease holder',
    20,
  );
}

/** The health probing of a stretch of time, from every side. */
export interface ProbeWindow {
  /** `healthcheck` events of the workers. */
  checks: WorkerEvent[];
  /** Answers of shouldProbe() to the workers' health timers (`lease` events). */
  decisions: WorkerEvent[];
  /** The probes the primary received (GET /models), and from whom. */
  received: (number | undefined)[];
}

/**
 * Waits until `holder` has probed `probes` times, and every other live worker's health timer has
 * asked for the lease at least twice, from now on: the stretch in which a second prober would
 * have shown up. No sleep: it ends with events that must happen.
 */
export async function probeWindow(cluster: FleetCluster, holder: FleetWorker, probes: number): Promise<ProbeWindow> {
  const { fleet, primary } = cluster;
  const mark = fleet.events.length;
  const requestMark = primary.requests.length;
  const others = fleet.live().filter((w) => w !== holder);
  const window = (): ProbeWindow => {
    const recent = fleet.events.slice(mark);
    return {
      checks: recent.filter((e) => e.event === 'healthcheck'),
      decisions: recent.filter((e) => e.event === 'lease'),
      received: primary.requests
        .slice(requestMark)
        .filter((r) => r.path.endsWith('/models'))
        .map(senderOf),
    };
  };
  return waitFor(
    () => {
      const w = window();
      const asked = (worker: FleetWorker) => w.decisions.filter((e) => e.worker === worker.index).length;
      return w.checks.filter((e) => e.worker === holder.index).length >= probes && others.every((o) => asked(o) >= 2) && w;
    },
    PATIENCE_MS,
    `${probes} probes by worker ${holder.index}, and every other worker's timer to ask for the lease twice`,
    20,
  );
}

/** One prober: the holder was told to probe and probed; every other worker was told not to, and did not. */
export function expectOnlyHolderProbes(window: ProbeWindow, holder: FleetWorker): void {
  const { checks, decisions, received } = window;
  expect(new Set(checks.map((e) => e.worker))).toEqual(new Set([holder.index]));
  expect(checks.every((e) => e.data.ok === true)).toBe(true);
  expect(received.length).toBeGreaterThan(0);
  expect(new Set(received)).toEqual(new Set([holder.index]));
  const told = (answer: boolean) => new Set(decisions.filter((e) => e.data === answer).map((e) => e.worker));
  expect(told(true)).toEqual(new Set([holder.index]));
  expect(told(false).has(holder.index)).toBe(false);
}
