import type { RedisClientLike } from './client-adapter.js';

/** Options of {@link createRedisCoordination}. */
export interface RedisCoordinationOptions {
  /**
   * A Redis client you built and connect yourself: node-redis (`redis` >= 5: `createClient()`,
   * `createCluster()`, `createSentinel()`) or ioredis (>= 5: `new Redis()`, also with
   * `sentinels`, or `new Cluster()`). It may still be connecting: until it is ready, every
   * process decides alone. The coordination never closes it. For pub/sub it opens one more
   * connection with `client.duplicate()`, except on node-redis cluster and Sentinel clients,
   * which keep a pub/sub connection of their own. Give a node-redis client an `'error'`
   * listener, as node-redis requires.
   */
  client: RedisClientLike;
  /**
   * Hash tag of every key and of the channel (`{namespace}:…`), so that several apps can share one
   * Redis, and a cluster keeps one app's keys in one slot. @default 'resilient-openai'
   */
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

/** The options with every default filled in, checked. */
export interface RedisSettings {
  namespace: string;
  /** Undefined: drawn at first use. */
  instanceId: string | undefined;
  commandTimeoutMs: number;
  syncIntervalMs: number;
  leaseMs: number;
  stateTtlMs: number;
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

/** Checks every option (naming it and the value) and fills in the defaults. */
export function redisSettings(options: RedisCoordinationOptions): RedisSettings {
  return {
    namespace: checkText('namespace', options.namespace) ?? defaults.namespace,
    instanceId: checkText('instanceId', options.instanceId),
    commandTimeoutMs: checkMs('commandTimeoutMs', options.commandTimeoutMs, 1) ?? defaults.commandTimeoutMs,
    syncIntervalMs: checkMs('syncIntervalMs', options.syncIntervalMs, 10) ?? defaults.syncIntervalMs,
    leaseMs: checkMs('leaseMs', options.leaseMs, 30) ?? defaults.leaseMs,
    stateTtlMs: checkMs('stateTtlMs', options.stateTtlMs, 1000) ?? defaults.stateTtlMs,
  };
}
