/**
 * A cluster of worker processes (worker.ts, forked with `--import tsx`) sharing one Redis, driven
 * over IPC. Every event a worker reports lands in `fleet.events`, with the worker's wall-clock time.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { LoadStats, WorkerConfig, WorkerMessage, WorkerRequest } from './worker.js';

const WORKER = fileURLToPath(new URL('./worker.ts', import.meta.url));

export interface WorkerEvent {
  event: string;
  worker: number;
  /** Wall-clock time in the worker, fractional milliseconds. */
  at: number;
  data: any;
}

export interface FleetOptions {
  size: number;
  redisUrl: string;
  primaryUrl: string;
  fallbackUrl: string;
  apiKey: string;
  library?: 'redis' | 'ioredis';
  namespace?: string;
  healthIntervalMs?: number | null;
  leaseMs?: number;
  syncIntervalMs?: number;
  commandTimeoutMs?: number;
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

export async function startFleet(options: FleetOptions): Promise<Fleet> {
  const events: WorkerEvent[] = [];
  const fatal: string[] = [];
  const workers: FleetWorker[] = [];
  const namespace = options.namespace ?? `test-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;

  const add = async (index: number): Promise<FleetWorker> => {
    const config: WorkerConfig = {
      index,
      instanceId: `w${index}-${Math.random().toString(36).slice(2, 6)}`,
      redisUrl: options.redisUrl,
      primaryUrl: options.primaryUrl,
      fallbackUrl: options.fallbackUrl,
      library: options.library ?? 'redis',
      namespace,
      apiKey: options.apiKey,
      healthIntervalMs: options.healthIntervalMs ?? null,
      ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }),
      ...(options.syncIntervalMs !== undefined && { syncIntervalMs: options.syncIntervalMs }),
      ...(options.commandTimeoutMs !== undefined && { commandTimeoutMs: options.commandTimeoutMs }),
    };
    const child = fork(WORKER, [], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env, WORKER_CONFIG: JSON.stringify(config) },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const waiting = new Map<number, { resolve: (value: any) => void; reject: (error: Error) => void }>();
    let nextId = 1;
    let ready: () => void;
    const started = new Promise<void>((resolve) => (ready = resolve));
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

  const alive = () => workers.filter((w) => w.child.exitCode === null && w.child.signalCode === null);

  await Promise.all(Array.from({ length: options.size }, (_, i) => add(i)));
  return {
    namespace,
    workers,
    events,
    fatal,
    add,
    async kill(worker) {
      if (worker.child.exitCode !== null || worker.child.signalCode !== null) return;
      const exited = new Promise((resolve) => worker.child.once('exit', resolve));
      worker.child.kill('SIGKILL');
      await exited;
    },
    all: (cmd, arg) => Promise.all(alive().map((w) => w.request(cmd, arg))),
    async close() {
      await Promise.all(
        alive().map(async (w) => {
          const exited = new Promise((resolve) => w.child.once('exit', resolve));
          const timer = setTimeout(() => w.child.kill('SIGKILL'), 3000);
          await w.request('close').catch(() => {});
          await exited;
          clearTimeout(timer);
        }),
      );
    },
  };
}

/** What a change did across the other workers: when each switched, and the `remote` events. */
export interface Propagation {
  /** Per other worker: its switch time minus the originating breaker change, in ms. */
  latencies: number[];
  /** The `remote` events of the other workers for this change. */
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
  const others = fleet.workers.filter((w) => w !== origin && w.child.exitCode === null && w.child.signalCode === null);
  const switched = await waitFor(
    () => {
      const recent = fleet.events.slice(mark);
      const hits = others.map((w) => recent.find((e) => e.worker === w.index && e.event === 'switched' && e.data.to === to));
      return hits.every(Boolean) && (hits as WorkerEvent[]);
    },
    timeoutMs,
    `every other worker to switch to ${to}`,
  );
  const remote = fleet.events.slice(mark).filter((e) => e.event === 'remote' && e.worker !== origin.index);
  return { latencies: switched.map((e) => e.at - changedAt), remote };
}

/** Opens the primary's breaker in `origin` (one 502, to it only) and waits for the others to follow. */
export function trip(fleet: Fleet, origin: FleetWorker, timeoutMs = 3000): Promise<Propagation> {
  return propagate(fleet, origin, async () => (await origin.request<{ openedAt: number }>('trip')).openedAt, 'fallback', timeoutMs);
}

/** Closes the primary's breaker in `origin` (health probes) and waits for the others to follow. */
export function recover(fleet: Fleet, origin: FleetWorker, timeoutMs = 3000): Promise<Propagation> {
  return propagate(fleet, origin, async () => (await origin.request<{ closedAt: number }>('recover')).closedAt, 'primary', timeoutMs);
}
