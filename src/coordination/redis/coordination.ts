import { log } from '../../observe/log.js';
import type { CoordinatedEndpoint, Coordination, CoordinationStatus, LocalChange, RemoteChange } from '../../options/contracts.js';
import { adaptClient, type RedisConnection, type Subscription } from './client-adapter.js';
import { describe, parseChange, text, type SharedChange } from './codec.js';
import { RedisCommands } from './commands.js';
import { SharedHomes } from './homes.js';
import { namespaceKeys, type NamespaceKeys } from './keys.js';
import { ProbeLease } from './lease.js';
import { randomInstanceId } from '../instance-id.js';
import { redisSettings, type RedisCoordinationOptions } from './options.js';
import { PUBLISH_SCRIPT } from './scripts.js';

/** A change of ours on its way to Redis. */
interface Pending {
  state: 'open' | 'closed';
  hold: LocalChange['hold'];
  /** Tells a later change of the same endpoint from this one. */
  seq: number;
  /** A push is in flight (the re-read does not send it twice). */
  sending: boolean;
}

/**
 * Breaker changes shared through Redis: each change is stored under its endpoint's key (with a
 * server-clock epoch, by a script) and published on the namespace's channel; a periodic re-read
 * repairs what pub/sub lost and sends what could not be stored while Redis was away. Also which
 * endpoint created each stored id (homes.ts), for the calls of other processes that name it.
 */
export class RedisCoordination implements Coordination {
  readonly backend = 'redis';
  #instanceId: string | undefined;
  readonly #commands: RedisCommands;
  readonly #lease: ProbeLease;
  readonly #homes: SharedHomes;
  readonly #connection: RedisConnection;
  readonly #keys: NamespaceKeys;
  readonly #syncMs: number;
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
  #syncing = false;
  #started = false;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: RedisCoordinationOptions) {
    const connection = adaptClient(options.client);
    const settings = redisSettings(options);
    this.#instanceId = settings.instanceId;
    this.#connection = connection;
    this.#keys = namespaceKeys(settings.namespace);
    this.#syncMs = settings.syncIntervalMs;
    this.#ttlMs = settings.stateTtlMs;
    this.#commands = new RedisCommands(connection, settings.commandTimeoutMs);
    this.#lease = new ProbeLease(this.#commands, this.#leaseKey, () => this.instanceId, settings.leaseMs);
    this.#homes = new SharedHomes(this.#commands, this.#keys);
  }

  /** Random unless configured, drawn at first use: a client built at module scope draws nothing. */
  get instanceId(): string {
    return (this.#instanceId ??= randomInstanceId());
  }

  get #leaseKey(): string {
    return this.#keys.lease;
  }

  get #channel(): string {
    return this.#keys.channel;
  }

  #stateKey(id: string): string {
    return this.#keys.state(id);
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
      const pending: Pending = { state: change.state, hold: change.hold, seq: ++this.#seq, sending: false };
      this.#pending.set(id, pending);
      void this.#push(id, pending);
    } catch (error) {
      log('coordination: publish failed (%s)', describe(error));
    }
  }

  rememberHomes(ids: readonly string[], endpoint: string, ttlMs: number): void {
    try {
      // The endpoint's coordinated id, never its URL or key: the same in every process.
      const id = this.#ids.get(endpoint);
      // Not while Redis is known down: a frozen connection would only pile up unanswered SETs.
      if (this.#closed || !this.#started || id === undefined || !this.#active()) return;
      this.#homes.remember(ids, id, ttlMs);
    } catch (error) {
      log('coordination: sharing ids failed (%s)', describe(error));
    }
  }

  findHome(ids: readonly string[]): Promise<{ id: string; endpoint: string } | undefined> {
    // Redis known down (or not reached yet): no lookup, so that no call waits for a timeout.
    if (!this.#started || !this.#active()) return Promise.resolve(undefined);
    return this.#homes.find(ids, (id) => this.#names.get(id));
  }

  shouldProbe(): Promise<boolean> {
    if (this.#closed || !this.#started) return Promise.resolve(true);
    return this.#lease.shouldProbe();
  }

  status(): CoordinationStatus {
    const active = this.#active();
    return { backend: 'redis', active, instanceId: this.instanceId, probeLeaseHolder: active ? this.#lease.holder : null };
  }

  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async #shutdown(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#syncTimer);
    this.#syncTimer = undefined;
    const release = this.#lease.release();
    const unsubscribe = this.#subscription?.close((p) => this.#commands.bound(p)) ?? Promise.resolve();
    this.#subscription = undefined;
    await Promise.allSettled([release, unsubscribe]);
  }

  /** Shared state is trusted while Redis answered within the last two re-reads. */
  #active(): boolean {
    return !this.#closed && this.#commands.answering(2 * this.#syncMs);
  }

  #subscribe(): void {
    try {
      this.#subscription = this.#connection.subscribe(
        this.#channel,
        (message) => this.#receive(parseChange(message)),
        (error) => log('coordination: subscriber: %s', describe(error)),
      );
    } catch (error) {
      log('coordination: cannot subscribe (%s); re-reads only', describe(error));
    }
  }

  /** Stores and publishes one change; on failure it stays pending for the next re-read. */
  async #push(id: string, pending: Pending): Promise<void> {
    if (pending.sending) return;
    pending.sending = true;
    try {
      const reply = await this.#commands.send([
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
        pending.hold ? JSON.stringify({ until: Math.round(pending.hold.until), reason: pending.hold.reason }) : '',
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
      const remote = { endpoint: name, state: change.state, instanceId: change.instanceId, epoch: change.epoch };
      this.#onRemote?.(change.hold ? { ...remote, hold: change.hold } : remote);
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
      const reply = await this.#commands.send(['MGET', this.#leaseKey, ...ids.map((id) => this.#stateKey(id))]);
      const values = Array.isArray(reply) ? (reply as unknown[]) : [];
      this.#lease.holder = text(values[0]);
      for (let i = 0; i < ids.length; i++) this.#receive(parseChange(text(values[i + 1])));
      for (const [id, pending] of this.#pending) await this.#push(id, pending);
      this.#subscription?.ensure();
      await this.#lease.takeIfFree();
    } catch {
      // Redis is down: already recorded; the next tick tries again.
    } finally {
      this.#syncing = false;
    }
  }
}
