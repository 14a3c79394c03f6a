/**
 * The two Redis clients the coordination accepts, seen through the few members it uses. Nothing
 * here imports `redis` or `ioredis` (not even their types): the user builds and owns the client,
 * and these structural interfaces match it.
 */

import { clientKind, isFunction } from './client-kind.js';

/** The part of a node-redis (`redis` >= 5) client that the coordination uses. */
export interface NodeRedisClientLike {
  /** Whether the connection is up and answers commands. */
  readonly isReady: boolean;
  /** Sends one command, e.g. `['GET', 'key']`. */
  sendCommand(args: string[]): Promise<unknown>;
  /** A new client with the same options, not connected yet (becomes the subscriber connection). */
  duplicate(): NodeRedisClientLike;
  /** Opens the connection; reconnects on its own afterwards. */
  connect(): Promise<unknown>;
  /** Subscribes to a channel on this connection. */
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  /** Unsubscribes from a channel. */
  unsubscribe(channel: string): Promise<unknown>;
  /** Closes the connection at once. */
  destroy(): void;
  /** Connection errors are emitted here; a node-redis client without a listener throws them. */
  on(event: 'error', listener: (error: unknown) => void): unknown;
}

/** The part of an ioredis (>= 5) client that the coordination uses. */
export interface IORedisClientLike {
  /** Connection state: `'ready'` when it answers commands. */
  readonly status: string;
  /** Sends one command, e.g. `call('GET', 'key')`. */
  call(command: string, ...args: string[]): Promise<unknown>;
  /** A new client with the same options (becomes the subscriber connection); it connects by itself. */
  duplicate(): IORedisClientLike;
  /** Subscribes to channels on this connection. */
  subscribe(...channels: string[]): Promise<unknown>;
  /** Unsubscribes from channels. */
  unsubscribe(...channels: string[]): Promise<unknown>;
  /** Closes the connection at once. */
  disconnect(): void;
  /** Messages of subscribed channels. */
  on(event: 'message', listener: (channel: string, message: string) => void): unknown;
  /** Connection errors. */
  on(event: 'error', listener: (error: unknown) => void): unknown;
}

/**
 * The part of a node-redis cluster client (`createCluster()`, redis >= 5) that the coordination
 * uses. It keeps its own pub/sub connection to one node; classic pub/sub reaches every node.
 */
export interface NodeRedisClusterLike {
  /** Whether the cluster client is connected (it has no `isReady`). */
  readonly isOpen: boolean;
  /** The masters it knows (tells a cluster client from the others). */
  readonly masters: unknown;
  /** Sends one command to the master of `firstKey`'s slot. */
  sendCommand(firstKey: string | undefined, isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  /** Removes `listener`; node-redis types it as a listener of strings or Buffers. */
  unsubscribe(channel: string, listener?: (message: string | Uint8Array, channel: string | Uint8Array) => void): Promise<unknown>;
}

/**
 * The part of a node-redis Sentinel client (`createSentinel()`, redis >= 5) that the coordination
 * uses. It follows the master Sentinel names, for commands and for its pub/sub connection.
 */
export interface NodeRedisSentinelLike {
  readonly isReady: boolean;
  /** Leases a master connection (tells a Sentinel client from the others). */
  acquire(): Promise<unknown>;
  /** Sends one command to the current master. */
  sendCommand(isReadonly: boolean | undefined, args: string[]): Promise<unknown>;
  subscribe(channel: string, listener: (message: string, channel: string) => void): Promise<unknown>;
  /** Removes `listener`; node-redis types it as a listener of strings or Buffers. */
  unsubscribe(channel: string, listener?: (message: string | Uint8Array, channel: string | Uint8Array) => void): Promise<unknown>;
}

/**
 * A Redis client the coordination accepts: node-redis >= 5 (`createClient`, `createCluster`,
 * `createSentinel`) or ioredis >= 5 (`new Redis()`, also with `sentinels`, and `new Cluster()`).
 */
export type RedisClientLike = NodeRedisClientLike | NodeRedisClusterLike | NodeRedisSentinelLike | IORedisClientLike;

/** A subscriber connection of our own, duplicated from the user's client. */
export interface Subscription {
  /** Subscribes again if the last attempt failed (and none is running). */
  ensure(): void;
  /** Whether the connection is gone for good (it must then be replaced). */
  readonly dead: boolean;
  /** Unsubscribes (bounded by `bound`) and closes the connection. Never rejects. */
  close(bound: <T>(promise: Promise<T>) => Promise<T>): Promise<void>;
}

/** One client, whichever library built it. */
export interface RedisConnection {
  /** `'node-redis'` or `'ioredis'`. */
  readonly library: 'node-redis' | 'ioredis';
  /** Which kind of deployment the client speaks to (ioredis tells a Sentinel client only by its options). */
  readonly topology: 'server' | 'cluster' | 'sentinel';
  /** Whether the client says it can take a command now. */
  ready(): boolean;
  /** Sends one command, unbounded (the caller races it against its own timeout). */
  send(args: string[]): Promise<unknown>;
  /** Opens a second connection subscribed to `channel`; connection happens in the background. */
  subscribe(channel: string, onMessage: (message: string) => void, onError: (error: unknown) => void): Subscription;
  /**
   * `args` went unanswered within the command timeout: the client may be stuck on a master that
   * is gone. A cluster client that follows a new topology only when told `MOVED` gets asked
   * where `args` belongs. Never rejects; may never settle (the caller bounds it).
   */
  stalled?(args: string[]): Promise<unknown>;
}

/** Wraps a node-redis or ioredis client; throws a TypeError for anything else. */
export function adaptClient(client: unknown): RedisConnection {
  switch (clientKind(client)) {
    case 'ioredis':
      return ioredis(client as IORedisClientLike);
    case 'node-redis-cluster':
      return nodeRedisShared(client as NodeRedisClusterLike, 'cluster');
    case 'node-redis-sentinel':
      return nodeRedisShared(client as NodeRedisSentinelLike, 'sentinel');
    case 'node-redis':
      return nodeRedis(client as NodeRedisClientLike);
  }
}

/** The first key of one of our commands (every key of a namespace hashes to the same slot). */
function firstKey(args: string[]): string | undefined {
  return args[0] === 'EVAL' ? args[3] : args[1];
}

const notReady = () => Promise.reject(new Error('Redis client not ready'));

function nodeRedis(client: NodeRedisClientLike): RedisConnection {
  return {
    library: 'node-redis',
    topology: 'server',
    ready: () => client.isReady === true,
    // Commands sent while it reconnects would wait in its offline queue: fail them at once instead.
    send: (args) => (client.isReady ? Promise.resolve().then(() => client.sendCommand(args)) : notReady()),
    subscribe(channel, onMessage, onError) {
      const sub = client.duplicate();
      sub.on('error', onError);
      // Our own connection must not keep the process alive (node-redis has unref()).
      (sub as { unref?: () => void }).unref?.();
      const connected = sub.connect().then(() => undefined);
      connected.catch(onError);
      const { state, ensure } = subscribeOnce(() => connected.then(() => sub.subscribe(channel, (message) => onMessage(message))), onError);
      return {
        ensure,
        get dead() {
          return !state.closed && (sub as { isOpen?: boolean }).isOpen === false;
        },
        async close(bound) {
          state.closed = true;
          if (state.subscribed) await bound(sub.unsubscribe(channel)).catch(() => {});
          try {
            sub.destroy();
          } catch {
            // Already closed.
          }
        },
      };
    },
  };
}

function ioredis(client: IORedisClientLike): RedisConnection {
  const c = client as { nodes?: unknown; options?: { sentinels?: unknown } };
  return {
    library: 'ioredis',
    topology:
      isFunction(c.nodes) ? 'cluster'
      : c.options?.sentinels ? 'sentinel'
      : 'server',
    ready: () => client.status === 'ready',
    send: ([command, ...args]) => (client.status === 'ready' ? Promise.resolve().then(() => client.call(command!, ...args)) : notReady()),
    subscribe(channel, onMessage, onError) {
      const sub = client.duplicate();
      sub.on('error', onError);
      sub.on('message', (from, message) => {
        if (from === channel) onMessage(message);
      });
      // ioredis queues it until connected, and subscribes again by itself after a reconnect.
      const { state, ensure } = subscribeOnce(() => Promise.resolve().then(() => sub.subscribe(channel)), onError);
      return {
        ensure,
        get dead() {
          return !state.closed && sub.status === 'end';
        },
        async close(bound) {
          state.closed = true;
          if (state.subscribed && sub.status === 'ready') await bound(sub.unsubscribe(channel)).catch(() => {});
          sub.disconnect();
        },
      };
    },
  };
}

/**
 * A node-redis cluster or Sentinel client: it sends each command where it belongs and keeps a
 * pub/sub connection of its own that follows the topology (a new master, moved slots), so the
 * subscription is made on it, not on a duplicate, and removed by its listener.
 */
function nodeRedisShared(client: NodeRedisClusterLike | NodeRedisSentinelLike, topology: 'cluster' | 'sentinel'): RedisConnection {
  const ready = () => ('masters' in client ? client.isOpen : client.isReady) === true;
  const send =
    'masters' in client ?
      (args: string[]) => client.sendCommand(firstKey(args), false, args)
    : (args: string[]) => client.sendCommand(false, args);
  // node-redis (5.x) re-reads a cluster's topology only on a MOVED or ASK reply: when a master
  // dies, commands for its slots wait for it in its connection's offline queue for good, and the
  // promoted replica is never used. The same key sent without a first key goes to the next node
  // of its list instead; any node but the slot's master answers MOVED, and node-redis re-reads the
  // topology (dropping the dead node, rejecting what waited for it, moving its pub/sub).
  const stalled =
    'masters' in client ?
      (args: string[]) => {
        const key = firstKey(args);
        return key === undefined ?
            Promise.resolve()
          : Promise.resolve()
              .then(() => client.sendCommand(undefined, true, ['EXISTS', key]))
              .catch(() => {});
      }
    : undefined;
  return {
    library: 'node-redis',
    topology,
    ready,
    ...(stalled && { stalled }),
    send: (args) => (ready() ? Promise.resolve().then(() => send(args)) : notReady()),
    subscribe(channel, onMessage, onError) {
      // Strings: we subscribe without buffer mode (the type also allows the Buffers of that mode).
      const listener = (message: string | Uint8Array) =>
        onMessage(typeof message === 'string' ? message : new TextDecoder().decode(message));
      const { state, ensure } = subscribeOnce(() => Promise.resolve().then(() => client.subscribe(channel, listener)), onError);
      return {
        ensure,
        // The user's client: when it is closed for good, so is the coordination's use of it.
        dead: false,
        async close(bound) {
          state.closed = true;
          if (state.subscribed && ready()) await bound(client.unsubscribe(channel, listener)).catch(() => {});
        },
      };
    },
  };
}

/** Subscribes now, and again whenever `ensure()` is called after a failure; never twice at once. */
function subscribeOnce(subscribe: () => Promise<unknown>, onError: (error: unknown) => void) {
  const state = { subscribed: false, closed: false, attempt: undefined as Promise<void> | undefined };
  const ensure = () => {
    if (state.subscribed || state.attempt || state.closed) return;
    state.attempt = subscribe()
      .then(
        () => {
          state.subscribed = true;
        },
        (error: unknown) => onError(error),
      )
      .finally(() => {
        state.attempt = undefined;
      });
  };
  ensure();
  return { state, ensure };
}
