/**
 * The Redis deployments production runs, started for real on loopback ports from Debian's
 * `redis-server` (scripts/install-redis.sh): a Redis Cluster of three masters, each with a replica,
 * and a master with a replica watched by three Sentinels. Short failure timeouts, so that a
 * killed master is replaced within seconds.
 */
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { createClient } from 'redis';
import { redisServer, type RedisServer } from './redis-server.js';

const run = promisify(execFile);
const REDIS_CLI = process.env.REDIS_CLI ?? 'redis-cli';

/** How long the cluster or the Sentinels wait before they call a silent master down. */
export const NODE_TIMEOUT_MS = 1000;

async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** One command to one server, on a connection of its own. */
export async function ask(port: number, args: string[]): Promise<unknown> {
  const client = createClient({ url: `redis://127.0.0.1:${port}`, socket: { reconnectStrategy: false, connectTimeout: 1000 } });
  client.on('error', () => {});
  await client.connect();
  try {
    return await client.sendCommand(args);
  } finally {
    client.destroy();
  }
}

export interface RedisCluster {
  readonly nodes: readonly RedisServer[];
  /** `{ host, port }` of every node, as cluster clients take their seeds. */
  readonly seeds: { host: string; port: number }[];
  /** The node that is master of `key`'s slot now. */
  masterOf(key: string): Promise<RedisServer>;
  /** Stops the master of `key`'s slot and resolves once its replica has taken over (all slots served). */
  killMasterOf(key: string): Promise<{ killed: RedisServer; promotedInMs: number }>;
  close(): Promise<void>;
}

/** Three masters and three replicas (`redis-cli --cluster create --cluster-replicas 1`). */
export async function redisCluster(): Promise<RedisCluster> {
  // Validity factor 0: a replica takes over however long ago it last heard its master (without
  // writes, Redis 7 may count a fresh replica's data as too old and refuse).
  const args = [
    '--cluster-enabled',
    'yes',
    '--cluster-node-timeout',
    String(NODE_TIMEOUT_MS),
    '--cluster-require-full-coverage',
    'no',
    '--cluster-replica-validity-factor',
    '0',
  ];
  // The cluster config file lives in each server's own directory (`--dir`).
  const started: RedisServer[] = [];
  for (let i = 0; i < 6; i++) started.push(await redisServer({ args: [...args, '--cluster-config-file', 'nodes.conf'] }));
  await run(REDIS_CLI, ['--cluster', 'create', ...started.map((n) => `127.0.0.1:${n.port}`), '--cluster-replicas', '1', '--cluster-yes'], {
    timeout: 60_000,
  });
  await waitUntil('the cluster to serve every slot on every node', async () => {
    for (const node of started) if (!String(await ask(node.port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok')) return false;
    return true;
  });
  const byPort = new Map(started.map((n) => [n.port, n]));
  const masterOf = async (key: string) => {
    const slot = Number(await ask(started.find((n) => n.running)!.port, ['CLUSTER', 'KEYSLOT', key]));
    for (const node of started) {
      if (!node.running) continue;
      const shards = (await ask(node.port, ['CLUSTER', 'SLOTS']).catch(() => undefined)) as
        [number, number, [string, number]][] | undefined;
      if (!shards) continue;
      const owner = shards.find(([from, to]) => slot >= from && slot <= to);
      if (owner) return byPort.get(Number(owner[2][1]))!;
    }
    throw new Error(`no node serves slot ${slot}`);
  };
  return {
    nodes: started,
    seeds: started.map((n) => ({ host: '127.0.0.1', port: n.port })),
    masterOf,
    async killMasterOf(key) {
      const killed = await masterOf(key);
      const at = Date.now();
      await killed.stop();
      await waitUntil('a replica to take over the killed master', async () => {
        const now = await masterOf(key);
        if (now === killed) return false;
        return String(await ask(now.port, ['CLUSTER', 'INFO'])).includes('cluster_state:ok');
      });
      return { killed, promotedInMs: Date.now() - at };
    },
    async close() {
      await Promise.all(started.map((n) => n.close()));
    },
  };
}

export interface RedisSentinels {
  /** The name the Sentinels monitor the master under. */
  readonly name: string;
  readonly sentinels: { host: string; port: number }[];
  /** The server that is master now, as the Sentinels say. */
  master(): Promise<RedisServer>;
  /** Stops the master and resolves once the Sentinels promoted the replica. */
  killMaster(): Promise<{ killed: RedisServer; promotedInMs: number }>;
  close(): Promise<void>;
}

/** A master, its replica, and three Sentinels (quorum 2). */
export async function redisSentinels(name = 'mymaster'): Promise<RedisSentinels> {
  const master = await redisServer();
  const replica = await redisServer({ args: ['--replicaof', '127.0.0.1', String(master.port)] });
  await waitUntil('the replica to sync', async () =>
    String(await ask(replica.port, ['INFO', 'replication'])).includes('master_link_status:up'),
  );
  const servers = new Map([
    [master.port, master],
    [replica.port, replica],
  ]);
  const sentinels: RedisServer[] = [];
  for (let i = 0; i < 3; i++) {
    sentinels.push(
      await redisServer({
        config: (dir) => ({
          file: join(dir, 'sentinel.conf'),
          sentinel: true,
          text: [
            `sentinel monitor ${name} 127.0.0.1 ${master.port} 2`,
            `sentinel down-after-milliseconds ${name} ${NODE_TIMEOUT_MS}`,
            `sentinel failover-timeout ${name} 10000`,
            `sentinel parallel-syncs ${name} 1`,
            '',
          ].join('\n'),
        }),
      }),
    );
  }
  const current = async () => {
    for (const sentinel of sentinels) {
      if (!sentinel.running) continue;
      const reply = (await ask(sentinel.port, ['SENTINEL', 'GET-MASTER-ADDR-BY-NAME', name]).catch(() => undefined)) as
        [string, string] | undefined;
      if (reply) return servers.get(Number(reply[1]))!;
    }
    throw new Error('no Sentinel answers');
  };
  await waitUntil('every Sentinel to see the replica and the other Sentinels', async () => {
    for (const sentinel of sentinels) {
      const reply = (await ask(sentinel.port, ['SENTINEL', 'MASTER', name])) as string[];
      const field = (key: string) => Number(reply[reply.indexOf(key) + 1]);
      if (field('num-slaves') < 1 || field('num-other-sentinels') < 2) return false;
    }
    return true;
  });
  return {
    name,
    sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
    master: current,
    async killMaster() {
      const killed = await current();
      const at = Date.now();
      await killed.stop();
      await waitUntil('the Sentinels to promote the replica', async () => {
        const now = await current();
        return now !== killed && String(await ask(now.port, ['INFO', 'replication'])).includes('role:master');
      });
      return { killed, promotedInMs: Date.now() - at };
    },
    async close() {
      await Promise.all([...sentinels, master, replica].map((s) => s.close()));
    },
  };
}
