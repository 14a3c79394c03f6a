/**
 * The two Redis clients the coordination accepts, seen through the few members it uses. Nothing
 * here imports `redis` or `ioredis` (not even their types): the user builds and owns the client,
 * and these structural interfaces match it.
 */

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

/** A Redis client the coordination accepts: node-redis >= 5 or ioredis >= 5. */
export type RedisClientLike = NodeRedisClientLike | IORedisClientLike;

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
  /** Whether the client says it can take a command now. */
  ready(): boolean;
  /** Sends one command, unbounded (the caller races it against its own timeout). */
  send(args: string[]): Promise<unknown>;
  /** Opens a second connection subscribed to `channel`; connection happens in the background. */
  subscribe(channel: string, onMessage: (message: string) => void, onError: (error: unknown) => void): Subscription;
}

const isFunction = (value: unknown): value is (...args: never[]) => unknown => typeof value === 'function';

/** Wraps a node-redis or ioredis client; throws a TypeError for anything else. */
export function adaptClient(client: unknown): RedisConnection {
  if (client === null || typeof client !== 'object') {
    throw new TypeError('resilient-openai: expected `client` to be a node-redis (redis >= 5) or ioredis client');
  }
  const c = client as Record<string, unknown>;
  // ioredis also has a `sendCommand`, with another signature: tell it apart by `status` and `call`.
  if (typeof c.status === 'string' && isFunction(c.call) && isFunction(c.duplicate)) return ioredis(client as IORedisClientLike);
  if ('isReady' in c && isFunction(c.sendCommand) && isFunction(c.duplicate)) return nodeRedis(client as NodeRedisClientLike);
  throw new TypeError(
    'resilient-openai: expected `client` to be a node-redis (redis >= 5: createClient()) or ioredis (new Redis()) client; cluster clients are not supported',
  );
}

const notReady = () => Promise.reject(new Error('Redis client not ready'));

function nodeRedis(client: NodeRedisClientLike): RedisConnection {
  return {
    library: 'node-redis',
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
  return {
    library: 'ioredis',
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
