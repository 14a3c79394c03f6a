/**
 * One process of a test cluster (forked by fleet.ts with `--import tsx`): a ResilientOpenAI over
 * fake upstreams, sharing state through createRedisCoordination. Its configuration comes in the
 * WORKER_CONFIG environment variable; the parent drives it over IPC, and it reports its events
 * (with wall-clock times in fractional milliseconds, comparable across processes).
 *
 * Its Redis is a single server, a Redis Cluster or a master behind Sentinels (`redis`), reached
 * with either library's client for that deployment, built as an application would build it.
 */
import { Cluster, Redis } from 'ioredis';
import { createClient, createCluster, createSentinel } from 'redis';
import { ResilientOpenAI, createRedisCoordination, type Coordination, type RedisCoordinationOptions } from '../../src/index.js';

type RedisClientLike = RedisCoordinationOptions['client'];

/** A node as cluster clients take their seeds and Sentinel clients their Sentinels. */
export interface RedisNodeAddress {
  host: string;
  port: number;
}

/** The Redis deployment a worker connects to. */
export type RedisTarget =
  | { kind: 'server'; url: string }
  | { kind: 'cluster'; seeds: RedisNodeAddress[] }
  | { kind: 'sentinel'; name: string; sentinels: RedisNodeAddress[] };

export interface WorkerConfig {
  index: number;
  instanceId: string;
  redis: RedisTarget;
  primaryUrl: string;
  fallbackUrl: string;
  library: 'redis' | 'ioredis';
  namespace: string;
  /** Keys of this worker's own (fleet.ts, workerKeys): the upstreams tell from them who sent a request. */
  apiKey: string;
  fallbackApiKey: string;
  /** Health timer interval; null turns the timer off. */
  healthIntervalMs: number | null;
  leaseMs?: number;
  syncIntervalMs?: number;
  commandTimeoutMs?: number;
  /** The client's `affinity` option (absent: the default). */
  affinity?: { ttlMs?: number } | false;
  /** `false`: a Redis coordination without rememberHomes/findHome (breakers shared, ids not). */
  shareHomes?: boolean;
}

/** Parent -> worker. */
export interface WorkerRequest {
  id: number;
  cmd:
    | 'trip'
    | 'trip-timeout'
    | 'trip-long-wait'
    | 'recover'
    | 'call'
    | 'create-response'
    | 'continue-response'
    | 'status'
    | 'load'
    | 'stats'
    | 'shouldProbe'
    | 'close';
  arg?: unknown;
}

/** Worker -> parent: an answer or an event. */
export type WorkerMessage =
  | { id: number; ok: true; result: unknown }
  | { id: number; ok: false; error: string }
  | { event: 'ready' | 'fatal' | 'remote' | 'switched' | 'breaker' | 'healthcheck' | 'lease'; worker: number; at: number; data: unknown };

/** Statistics of the background call loop (`load`). */
export interface LoadStats {
  ok: number;
  failed: number;
  maxMs: number;
  errors: string[];
}

const now = () => performance.timeOrigin + performance.now();
const config = JSON.parse(process.env.WORKER_CONFIG ?? '{}') as WorkerConfig;
const send = (message: WorkerMessage) => process.send?.(message);
const emit = (event: Exclude<WorkerMessage, { id: number }>['event'], data: unknown) =>
  send({ event, worker: config.index, at: now(), data });

process.on('unhandledRejection', (reason) => emit('fatal', `unhandled rejection: ${String(reason)}`));
process.on('uncaughtException', (error) => emit('fatal', `uncaught exception: ${String(error)}`));
// An orphan (the test runner died) exits instead of lingering.
process.on('disconnect', () => process.exit(0));

/** The client for the configured deployment and library, connecting (errors go to a listener). */
function connect(target: RedisTarget, library: WorkerConfig['library']): { client: RedisClientLike; close(): Promise<unknown> } {
  if (library === 'ioredis') {
    const client =
      target.kind === 'cluster' ? new Cluster(target.seeds)
      : target.kind === 'sentinel' ? new Redis({ sentinels: target.sentinels, name: target.name })
      : new Redis(target.url);
    client.on('error', () => {});
    return { client, close: () => Promise.resolve(client.disconnect()) };
  }
  if (target.kind === 'cluster') {
    const client = createCluster({ rootNodes: target.seeds.map((s) => ({ url: `redis://${s.host}:${s.port}` })) });
    client.on('error', () => {});
    client.connect().catch(() => {});
    return { client, close: () => Promise.resolve(client.isOpen && client.destroy()) };
  }
  if (target.kind === 'sentinel') {
    const client = createSentinel({ name: target.name, sentinelRootNodes: target.sentinels });
    client.on('error', () => {});
    client.connect().catch(() => {});
    return { client, close: () => (client.isOpen ? client.destroy() : Promise.resolve()) };
  }
  const client = createClient({ url: target.url });
  client.on('error', () => {});
  client.connect().catch(() => {});
  return { client, close: () => Promise.resolve(client.isOpen && client.destroy()) };
}

const redis = connect(config.redis, config.library);
const coordination: Coordination = createRedisCoordination({ client: redis.client, ...options() });

// Every answer of shouldProbe() (the health timer asks it each interval) is reported as a `lease`
// event: a worker told not to probe is seen asking, not only seen not probing.
const shouldProbe = coordination.shouldProbe.bind(coordination);
coordination.shouldProbe = async () => {
  const answer = await shouldProbe();
  emit('lease', answer);
  return answer;
};

// Without the two optional methods the client keeps ids to itself: the control group of homes.test.ts.
if (config.shareHomes === false) {
  Object.assign(coordination, { rememberHomes: undefined, findHome: undefined });
}

function options() {
  return {
    namespace: config.namespace,
    instanceId: config.instanceId,
    leaseMs: config.leaseMs,
    syncIntervalMs: config.syncIntervalMs,
    commandTimeoutMs: config.commandTimeoutMs,
  };
}

const client = new ResilientOpenAI({
  apiKey: config.apiKey,
  baseURL: config.primaryUrl,
  fallback: { apiKey: config.fallbackApiKey, baseURL: config.fallbackUrl },
  healthCheck: config.healthIntervalMs === null ? false : { intervalMs: config.healthIntervalMs, timeoutMs: 10_000 },
  retry: { initialDelayMs: 1, maxDelayMs: 5 },
  coordination,
  ...(config.affinity !== undefined && { affinity: config.affinity }),
});
// A pod follows the cluster from boot, before its first call.
client.start();

let lastBreaker: { endpoint: string; state: string; at: number } | undefined;
client.on('remote', (e) => emit('remote', e));
client.on('switched', (e) => emit('switched', { from: e.from, to: e.to, reason: e.reason }));
client.on('breaker', (e) => {
  lastBreaker = { endpoint: e.endpoint, state: e.state, at: now() };
  emit('breaker', e);
});
client.on('healthcheck', (e) => emit('healthcheck', { endpoint: e.endpoint, ok: e.ok }));

const chat = { model: 'gpt-test', messages: [{ role: 'user' as const, content: 'hi' }] };

let load: { stop: boolean; done: Promise<void> } | undefined;
let stats: LoadStats = { ok: 0, failed: 0, maxMs: 0, errors: [] };

function startLoad(everyMs: number): void {
  const state = { stop: false, done: Promise.resolve() };
  state.done = (async () => {
    while (!state.stop) {
      const started = performance.now();
      try {
        await client.chat.completions.create(chat);
        stats.ok++;
      } catch (error) {
        stats.failed++;
        if (stats.errors.length < 5) stats.errors.push(String(error));
      }
      stats.maxMs = Math.max(stats.maxMs, performance.now() - started);
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  load = state;
}

async function handle(request: WorkerRequest): Promise<unknown> {
  switch (request.cmd) {
    case 'trip': {
      // One 502 from the primary to this process only (a per-request header the fake honours),
      // with no retry: this process's primary breaker opens and it publishes the change.
      await client.chat.completions.create(chat, { headers: { 'x-test-status': '502' }, maxRetries: 0 }).catch(() => {});
      if (lastBreaker?.endpoint !== 'primary' || lastBreaker.state !== 'open') throw new Error('the trip did not open the breaker');
      return { openedAt: lastBreaker.at };
    }
    case 'trip-timeout': {
      // A request the primary leaves unanswered (to this process only), with a short timeout: a
      // timeout this process alone may have caused. Its breaker opens; it must not publish.
      await client.chat.completions.create(chat, { headers: { 'x-test-hang': '1' }, timeout: 200, maxRetries: 0 }).catch(() => {});
      if (lastBreaker?.endpoint !== 'primary' || lastBreaker.state !== 'open') throw new Error('the timeout did not open the breaker');
      // A lease round trip on the same Redis connection: anything this process had sent before is processed.
      await coordination.shouldProbe();
      return { openedAt: lastBreaker.at };
    }
    case 'trip-long-wait': {
      // A 429 asking for two minutes, to this process only: a hold, published with its end.
      await client.chat.completions
        .create(chat, { headers: { 'x-test-status': '429', 'x-test-retry-after': '120' }, maxRetries: 0 })
        .catch(() => {});
      const held = client.getStatus().endpoints[0]!;
      if (held.heldFor !== 'rate-limit') throw new Error('the long wait did not hold the primary');
      return { heldUntil: held.heldUntil };
    }
    case 'recover': {
      // Probes of the healthy primary close this process's breaker (two successes by default).
      for (let i = 0; i < 5; i++) {
        await client.checkPrimary();
        if (lastBreaker?.endpoint === 'primary' && lastBreaker.state === 'closed') return { closedAt: lastBreaker.at };
      }
      throw new Error('the primary did not recover');
    }
    case 'call': {
      const completion = await client.chat.completions.create(chat);
      return completion.choices[0]?.message.content;
    }
    case 'create-response': {
      // A new conversation (stored where it is served); its id and text.
      const response = await client.responses.create({ model: 'gpt-test', input: typeof request.arg === 'string' ? request.arg : 'hello' });
      return { id: response.id, text: response.output_text };
    }
    case 'continue-response': {
      // A follow-up naming a stored response: its id and text, or the upstream's error (a 404
      // from an upstream that does not have that response) as data.
      try {
        const response = await client.responses.create({
          model: 'gpt-test',
          input: 'and then?',
          previous_response_id: request.arg as string,
        });
        return { id: response.id, text: response.output_text };
      } catch (error) {
        const e = error as { status?: unknown; code?: unknown };
        return { error: { status: e.status ?? null, code: e.code ?? null, message: String(error) } };
      }
    }
    case 'status':
      return client.getStatus();
    case 'load':
      if (request.arg === false) {
        if (load) load.stop = true;
        await load?.done;
        load = undefined;
      } else if (!load) startLoad(typeof request.arg === 'number' ? request.arg : 20);
      return null;
    case 'stats': {
      const result = stats;
      stats = { ok: 0, failed: 0, maxMs: 0, errors: [] };
      return result;
    }
    case 'shouldProbe':
      return coordination.shouldProbe();
    case 'close':
      if (load) load.stop = true;
      await load?.done;
      // close() returns at once; the async dispose also waits until the probe lease is released.
      await client[Symbol.asyncDispose]();
      await redis.close();
      setTimeout(() => process.exit(0), 10).unref();
      return null;
  }
}

process.on('message', (request: WorkerRequest) => {
  handle(request).then(
    (result) => send({ id: request.id, ok: true, result }),
    (error: unknown) => send({ id: request.id, ok: false, error: String(error) }),
  );
});
emit('ready', { instanceId: coordination.instanceId });
