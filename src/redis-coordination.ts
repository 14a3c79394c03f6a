import { randomUUID } from 'node:crypto';
import type { CoordinatedEndpoint, Coordination, CoordinationStatus, LocalChange, RemoteChange } from './coordination.js';
import { log } from './log.js';
import { LEASE_SCRIPT, PUBLISH_SCRIPT, RELEASE_SCRIPT } from './redis-scripts.js';
import { adaptClient, type RedisClientLike, type RedisConnection, type Subscription } from './redis-client-adapter.js';

export type { IORedisClientLike, NodeRedisClientLike, RedisClientLike } from './redis-client-adapter.js';

/** Options of {@link createRedisCoordination}. */
export interface RedisCoordinationOptions {
  /**
   * A Redis client you built and connect yourself: node-redis (`createClient()` from `redis` >= 5)
   * or ioredis (`new Redis()`, ioredis >= 5). It may still be connecting: until it is ready, every
   * process decides alone. The coordination never closes it; it opens one more connection of its
   * own, with `client.duplicate()`, for pub/sub. Give a node-redis client an `'error'` listener,
   * as node-redis requires. Cluster clients are not supported.
   */
  client: RedisClientLike;
  /** Prefix of every key and of the channel, so that several apps can share one Redis. @default 'resilient-openai' */
  namespace?: string | undefined;
  /** This process's id, shown in other processes' `remote` events and as the probe-lease holder. @default random */
  instanceId?: string | undefined;
  /**
   * Longest wait for one Redis command; slower counts as Redis being down. The library's own
   * bound: some clients never time out a command to a frozen server. @default 250
   */
  commandTimeoutMs?: number | undefined;
  /**
   * Time between two re-reads of the shared state. Changes arrive by pub/sub within milliseconds;
   * the re-read catches those pub/sub lost (a reconnect, a restart). @default 500
   */
  syncIntervalMs?: number | undefined;
  /**
   * Life of the health-probe lease: one process of the cluster probes the primary, and renews the
   * lease every third of this. When it dies, another takes over within about this time. Keep it
   * well under `healthCheck.intervalMs`. @default 10000
   */
  leaseMs?: number | undefined;
  /** How long Redis keeps an endpoint's last shared state after its last change. @default 600000 (10 minutes) */
  stateTtlMs?: number | undefined;
}

const defaults = { namespace: 'resilient-openai', commandTimeoutMs: 250, syncIntervalMs: 500, leaseMs: 10_000, stateTtlMs: 600_000 };
/** Commands of ours still unanswered (a frozen server) beyond which we stop sending more. */
const MAX_OUTSTANDING = 64;

/** A change of ours on its way to Redis. */
interface Pending {
  state: 'open' | 'closed';
  /** Tells a later change of the same endpoint from this one. */
  seq: number;
  /** A push is in flight (the re-read does not send it twice). */
  sending: boolean;
}

class RedisTimeoutError extends Error {
  constructor(ms: number) {
    super(`Redis command timed out after ${ms}ms`);
    this.name = 'RedisTimeoutError';
  }
}

/** A change as stored in Redis and sent on the channel. */
interface SharedChange {
  endpoint: string;
  state: 'open' | 'closed';
  epoch: number;
  instanceId: string;
}

function text(reply: unknown): string | null {
  if (reply === null || reply === undefined) return null;
  if (typeof reply === 'string') return reply;
  if (reply instanceof Uint8Array) return new TextDecoder().decode(reply);
  return typeof reply === 'number' || typeof reply === 'bigint' ? String(reply) : null;
}

function parseChange(raw: string | null): SharedChange | null {
  if (raw === null) return null;
  try {
    const value = JSON.parse(raw) as Partial<SharedChange> | null;
    if (
      value &&
      typeof value.endpoint === 'string' &&
      (value.state === 'open' || value.state === 'closed') &&
      typeof value.epoch === 'number' &&
      Number.isFinite(value.epoch) &&
      typeof value.instanceId === 'string'
    ) {
      return { endpoint: value.endpoint, state: value.state, epoch: value.epoch, instanceId: value.instanceId };
    }
  } catch {
    // Not ours, or damaged: ignored.
  }
  return null;
}

function describe(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`.slice(0, 200);
  return typeof error;
}

function checkMs(name: string, value: unknown, min: number): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min || value > 2 ** 31 - 1) {
    throw new TypeError(
      `resilient-openai: expected \`${name}\` to be a number of milliseconds >= ${min}, got ${typeof value === 'number' ? value : typeof value}`,
    );
  }
  return value;
}

function checkText(name: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  // Printable ASCII without spaces: these end up in key names and in JSON written by a script.
  if (typeof value !== 'string' || !/^[\x21-\x7e]{1,200}$/.test(value)) {
    throw new TypeError(`resilient-openai: expected \`${name}\` to be 1 to 200 printable characters without spaces`);
  }
  return value;
}

/**
 * Shares breaker state and the health probe between processes through Redis. Pass the result as
 * the `coordination` option of every `ResilientOpenAI` of the cluster (one coordination per
 * client):
 *
 * ```ts
 * const redis = createClient({ url: process.env.REDIS_URL });
 * redis.on('error', () => {}); // node-redis requires a listener
 * redis.connect().catch(() => {}); // in the background: calls work before (and without) Redis
 * const client = new ResilientOpenAI({ coordination: createRedisCoordination({ client: redis }) });
 * ```
 *
 * When a breaker opens or closes in one process, every other process follows within
 * milliseconds (pub/sub), or within `syncIntervalMs` when a message was lost. One process at a
 * time holds the probe lease and runs the health probe. Redis trouble never fails a call: every
 * command is bounded by `commandTimeoutMs`, and while Redis is away each process decides alone.
 *
 * @throws TypeError when `client` is neither a node-redis nor an ioredis client, or an option is invalid.
 */
export function createRedisCoordination(options: RedisCoordinationOptions): Coordination {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('resilient-openai: expected createRedisCoordination() options to be an object with a `client`');
  }
  return new RedisCoordination(options);
}

class RedisCoordination implements Coordination {
  readonly backend = 'redis';
  readonly instanceId: string;
  readonly #conn: RedisConnection;
  readonly #ns: string;
  readonly #timeoutMs: number;
  readonly #syncMs: number;
  readonly #leaseMs: number;
  readonly #ttlMs: number;

  /** Endpoint name -> id, and back. */
  readonly #ids = new Map<string, string>();
  readonly #names = new Map<string, string>();
  /** Per endpoint id: epoch of the newest change seen (ours or another process's). */
  readonly #known = new Map<string, number>();
  /** Per endpoint id: our latest change not yet stored in Redis (it was down). */
  readonly #pending = new Map<string, Pending>();
  #seq = 0;
  #onRemote: ((change: RemoteChange) => void) | undefined;
  #subscription: Subscription | undefined;
  #syncTimer: ReturnType<typeof setInterval> | undefined;
  #leaseTimer: ReturnType<typeof setInterval> | undefined;
  #syncing = false;
  #leasing: Promise<string | null> | undefined;
  /** Whether this process wants the probe lease (its health timer asked). */
  #candidate = false;
  #leaseHolder: string | null = null;
  #outstanding = 0;
  #lastOkAt = 0;
  #failing = true;
  #started = false;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: RedisCoordinationOptions) {
    this.#conn = adaptClient(options.client);
    this.#ns = checkText('namespace', options.namespace) ?? defaults.namespace;
    this.instanceId = checkText('instanceId', options.instanceId) ?? randomUUID().slice(0, 8);
    this.#timeoutMs = checkMs('commandTimeoutMs', options.commandTimeoutMs, 1) ?? defaults.commandTimeoutMs;
    this.#syncMs = checkMs('syncIntervalMs', options.syncIntervalMs, 10) ?? defaults.syncIntervalMs;
    this.#leaseMs = checkMs('leaseMs', options.leaseMs, 30) ?? defaults.leaseMs;
    this.#ttlMs = checkMs('stateTtlMs', options.stateTtlMs, 1000) ?? defaults.stateTtlMs;
  }

  get #channel(): string {
    return `${this.#ns}:changes`;
  }

  get #leaseKey(): string {
    return `${this.#ns}:probe-lease`;
  }

  #stateKey(id: string): string {
    return `${this.#ns}:endpoint:${id}`;
  }

  start(endpoints: readonly CoordinatedEndpoint[], onRemote: (change: RemoteChange) => void): void {
    try {
      if (this.#started || this.#closed) {
        log('coordination: start() ignored (%s); use one coordination per client', this.#closed ? 'closed' : 'already started');
        return;
      }
      this.#started = true;
      this.#onRemote = onRemote;
      for (const { name, id } of endpoints) {
        this.#ids.set(name, id);
        this.#names.set(id, name);
      }
      this.#subscribe();
      this.#syncTimer = setInterval(() => void this.#sync(), this.#syncMs);
      this.#syncTimer.unref?.();
      void this.#sync();
    } catch (error) {
      log('coordination: could not start (%s); deciding locally', describe(error));
    }
  }

  publish(change: LocalChange): void {
    try {
      const id = this.#ids.get(change.endpoint);
      if (this.#closed || id === undefined) return;
      const pending: Pending = { state: change.state, seq: ++this.#seq, sending: false };
      this.#pending.set(id, pending);
      void this.#push(id, pending);
    } catch (error) {
      log('coordination: publish failed (%s)', describe(error));
    }
  }

  async shouldProbe(): Promise<boolean> {
    if (this.#closed || !this.#started) return true;
    if (!this.#candidate) {
      this.#candidate = true;
      this.#leaseTimer = setInterval(() => void this.#lease().catch(() => {}), Math.max(10, Math.floor(this.#leaseMs / 3)));
      this.#leaseTimer.unref?.();
    }
    try {
      return (await this.#lease()) === this.instanceId;
    } catch {
      // Redis cannot tell: probe locally.
      return true;
    }
  }

  status(): CoordinationStatus {
    const active = this.#active();
    return { backend: 'redis', active, instanceId: this.instanceId, probeLeaseHolder: active ? this.#leaseHolder : null };
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#syncTimer);
    clearInterval(this.#leaseTimer);
    this.#syncTimer = this.#leaseTimer = undefined;
    const release = this.#candidate ? this.#command(['EVAL', RELEASE_SCRIPT, '1', this.#leaseKey, this.instanceId]) : Promise.resolve();
    const unsubscribe = this.#subscription?.close((p) => this.#bound(p)) ?? Promise.resolve();
    this.#subscription = undefined;
    await Promise.allSettled([release, unsubscribe]);
    if (this.#leaseHolder === this.instanceId) this.#leaseHolder = null;
  }

  #active(): boolean {
    return !this.#closed && !this.#failing && Date.now() - this.#lastOkAt <= 2 * this.#syncMs + this.#timeoutMs;
  }

  #subscribe(): void {
    try {
      this.#subscription = this.#conn.subscribe(
        this.#channel,
        (message) => this.#receive(parseChange(message)),
        (error) => log('coordination: subscriber: %s', describe(error)),
      );
    } catch (error) {
      log('coordination: cannot subscribe (%s); re-reads only', describe(error));
    }
  }

  /** Races a command against our own timeout; records whether Redis answers. */
  async #command(args: string[]): Promise<unknown> {
    if (!this.#conn.ready()) {
      this.#down('client not ready');
      throw new Error('Redis client not ready');
    }
    if (this.#outstanding >= MAX_OUTSTANDING) {
      this.#down('too many unanswered commands');
      throw new Error('too many unanswered Redis commands');
    }
    this.#outstanding++;
    const sent = this.#conn.send(args).finally(() => this.#outstanding--);
    try {
      const reply = await this.#bound(sent);
      if (this.#failing) log('coordination: Redis reachable; sharing breaker state');
      this.#failing = false;
      this.#lastOkAt = Date.now();
      return reply;
    } catch (error) {
      this.#down(describe(error));
      throw error;
    }
  }

  #bound<T>(promise: Promise<T>): Promise<T> {
    promise.catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisTimeoutError(this.#timeoutMs)), this.#timeoutMs);
      timer.unref?.();
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  #down(reason: string): void {
    if (!this.#failing) log('coordination: Redis unavailable (%s); deciding locally', reason);
    this.#failing = true;
  }

  /** Stores and publishes one change; on failure it stays pending for the next re-read. */
  async #push(id: string, pending: Pending): Promise<void> {
    if (pending.sending) return;
    pending.sending = true;
    try {
      const reply = await this.#command([
        'EVAL',
        PUBLISH_SCRIPT,
        '1',
        this.#stateKey(id),
        id,
        pending.state,
        this.instanceId,
        String(this.#ttlMs),
        this.#channel,
        String(this.#known.get(id) ?? 0),
      ]);
      const stored = parseChange(text(reply));
      if (stored && stored.epoch > (this.#known.get(id) ?? 0)) this.#known.set(id, stored.epoch);
      if (this.#pending.get(id)?.seq === pending.seq) this.#pending.delete(id);
    } catch {
      // Stays pending: the next successful re-read publishes it.
    } finally {
      pending.sending = false;
    }
  }

  /** A change read from Redis or received on the channel. */
  #receive(change: SharedChange | null): void {
    if (!change || this.#closed) return;
    const name = this.#names.get(change.endpoint);
    if (name === undefined || change.epoch <= (this.#known.get(change.endpoint) ?? 0)) return;
    this.#known.set(change.endpoint, change.epoch);
    const pending = this.#pending.get(change.endpoint);
    if (change.instanceId === this.instanceId) {
      // One of our own publishes, stored although we did not hear back (a slow or frozen Redis).
      if (pending?.state === change.state) this.#pending.delete(change.endpoint);
      return;
    }
    // The cluster moved on while we could not tell it our view: follow it rather than overwrite it.
    this.#pending.delete(change.endpoint);
    try {
      this.#onRemote?.({ endpoint: name, state: change.state, instanceId: change.instanceId, epoch: change.epoch });
    } catch (error) {
      log('coordination: applying a remote change failed (%s)', describe(error));
    }
  }

  /** The periodic re-read: shared state, lease holder, and what could not be published. */
  async #sync(): Promise<void> {
    if (this.#syncing || this.#closed) return;
    this.#syncing = true;
    try {
      if (this.#subscription?.dead) this.#subscribe();
      const ids = [...this.#names.keys()];
      const reply = await this.#command(['MGET', this.#leaseKey, ...ids.map((id) => this.#stateKey(id))]);
      const values = Array.isArray(reply) ? (reply as unknown[]) : [];
      this.#leaseHolder = text(values[0]);
      for (let i = 0; i < ids.length; i++) this.#receive(parseChange(text(values[i + 1])));
      for (const [id, pending] of this.#pending) await this.#push(id, pending);
      this.#subscription?.ensure();
      if (this.#candidate && this.#leaseHolder === null) await this.#lease();
    } catch {
      // Redis is down: already recorded; the next tick tries again.
    } finally {
      this.#syncing = false;
    }
  }

  /** Takes or renews the probe lease; resolves the holder. One attempt at a time. */
  #lease(): Promise<string | null> {
    this.#leasing ??= this.#command(['EVAL', LEASE_SCRIPT, '1', this.#leaseKey, this.instanceId, String(this.#leaseMs)])
      .then((reply) => {
        const holder = text(reply);
        if (holder !== this.#leaseHolder) log('coordination: probe lease held by %s', holder ?? 'nobody');
        this.#leaseHolder = holder;
        return holder;
      })
      .finally(() => {
        this.#leasing = undefined;
      });
    return this.#leasing;
  }
}
