// Which Redis library built a client, told apart by shape: no `redis` or `ioredis` import. Kept
// apart from the adapters so that createRedisCoordination() can reject a wrong client at once while
// the rest of the Redis code loads on first use.

/** The kinds of client the adapters speak to. */
export type ClientKind = 'ioredis' | 'node-redis-cluster' | 'node-redis-sentinel' | 'node-redis';

export const isFunction = (value: unknown): value is (...args: never[]) => unknown => typeof value === 'function';

/** The kind of `client`; throws a TypeError for anything that is neither node-redis nor ioredis. */
export function clientKind(client: unknown): ClientKind {
  if (client === null || typeof client !== 'object') {
    throw new TypeError('resilient-openai: expected `client` to be a node-redis (redis >= 5) or ioredis client');
  }
  const c = client as Record<string, unknown>;
  // ioredis also has a `sendCommand`, with another signature: tell it apart by `status` and `call`.
  // Its Cluster has the same members (and `nodes()`); a Sentinel client is a Redis with options.
  if (typeof c.status === 'string' && isFunction(c.call) && isFunction(c.duplicate)) return 'ioredis';
  if ('masters' in c && isFunction(c.sendCommand) && isFunction(c.subscribe)) return 'node-redis-cluster';
  if (isFunction(c.acquire) && isFunction(c.sendCommand) && isFunction(c.subscribe)) return 'node-redis-sentinel';
  if ('isReady' in c && isFunction(c.sendCommand) && isFunction(c.duplicate)) return 'node-redis';
  throw new TypeError(
    'resilient-openai: expected `client` to be a node-redis (redis >= 5: createClient(), createCluster(), createSentinel()) or ioredis (new Redis(), new Cluster()) client',
  );
}
