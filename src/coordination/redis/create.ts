import type { Coordination } from '../../options/contracts.js';
import { DeferredCoordination } from '../deferred.js';
import { clientKind } from './client-kind.js';
import { redisSettings, type RedisCoordinationOptions } from './options.js';

export type { IORedisClientLike, NodeRedisClientLike, RedisClientLike } from './client-adapter.js';
export type { RedisCoordinationOptions } from './options.js';

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
 * time holds the probe lease and runs the health probe. Which endpoint created each stored id (a
 * response, a file, ...) is shared too, for the client's `affinity.ttlMs`: a conversation one
 * process started on the fallback continues there from any other. Redis trouble never fails a
 * call: every command is bounded by `commandTimeoutMs`, and while Redis is away each process
 * decides alone.
 *
 * @throws TypeError when `client` is neither a node-redis nor an ioredis client, or an option is invalid.
 */
export function createRedisCoordination(options: RedisCoordinationOptions): Coordination {
  if (options === null || typeof options !== 'object') {
    throw new TypeError('resilient-openai: expected createRedisCoordination() options to be an object with a `client`');
  }
  // Every mistake is reported here, at once; the code that talks to Redis loads in the background
  // (see DeferredCoordination) and takes over within a few ms.
  clientKind(options.client);
  const { instanceId } = redisSettings(options);
  const given = { ...options };
  return new DeferredCoordination('redis', instanceId, () =>
    import('./coordination.js').then(
      ({ RedisCoordination }) =>
        (drawn) =>
          new RedisCoordination(drawn === undefined ? given : { ...given, instanceId: drawn }),
    ),
  );
}
