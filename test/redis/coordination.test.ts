/**
 * createRedisCoordination() in one process, against a real redis-server: options, a client that
 * is not connected yet, a frozen server, close(), namespaces and the epoch across a restart.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCoordination, type Coordination, type RemoteChange } from '../../src/index.js';
import { redisServer, type RedisServer } from '../support/redis-server.js';
import { sleep, trackUnhandled, waitFor } from './fleet.js';

const ENDPOINTS = [
  { name: 'primary', id: 'aaaaaaaaaaaaaaaa' },
  { name: 'fallback', id: 'bbbbbbbbbbbbbbbb' },
];

const unhandled = trackUnhandled();

let server: RedisServer;
let admin: ReturnType<typeof createClient>;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  server = await redisServer();
  admin = createClient({ url: server.url });
  admin.on('error', () => {});
  await admin.connect();
});

afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
  expect(unhandled.reasons).toEqual([]);
});

afterAll(async () => {
  await admin?.close().catch(() => {});
  await server?.close();
  unhandled.stop();
});

function nodeRedis(connect = true) {
  const client = createClient({ url: server.url });
  client.on('error', () => {});
  if (connect) client.connect().catch(() => {});
  cleanups.push(() => client.isOpen && client.destroy());
  return client;
}

let namespaceCount = 0;
const freshNamespace = () => `unit-${process.pid}-${++namespaceCount}`;

function started(coordination: Coordination): { coordination: Coordination; changes: RemoteChange[] } {
  const changes: RemoteChange[] = [];
  coordination.start(ENDPOINTS, (change) => changes.push(change));
  cleanups.push(() => coordination.close());
  return { coordination, changes };
}

const isActive = (c: Coordination) => c.status().active;

/** Polls an async check until it resolves to something other than null. */
async function eventually<T>(check: () => Promise<T | null>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs}ms`);
    await sleep(10);
  }
}

describe('createRedisCoordination', () => {
  it('imports no Redis client in the library', () => {
    const dir = new URL('../../src/', import.meta.url);
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((file) => file.endsWith('.ts'));
    expect(files).toContain('coordination/redis/client-adapter.ts');
    for (const file of files) {
      const source = readFileSync(new URL(file, dir), 'utf8');
      expect(source, file).not.toMatch(/from ['"](redis|ioredis|@redis\/[^'"]+)['"]|(import|require)\(['"](redis|ioredis)/);
    }
  });

  it('rejects what is not a Redis client, and invalid options', () => {
    const client = nodeRedis(false);
    expect(() => createRedisCoordination({ client: {} as never })).toThrow(/node-redis.*ioredis/);
    expect(() => createRedisCoordination(undefined as never)).toThrow(TypeError);
    expect(() => createRedisCoordination({ client, namespace: 'has space' })).toThrow(/namespace/);
    expect(() => createRedisCoordination({ client, commandTimeoutMs: 0 })).toThrow(/commandTimeoutMs/);
    expect(() => createRedisCoordination({ client, leaseMs: Number.NaN })).toThrow(/leaseMs/);
    const coordination = createRedisCoordination({ client, instanceId: 'me' });
    expect(coordination.backend).toBe('redis');
    expect(coordination.status()).toEqual({ backend: 'redis', active: false, instanceId: 'me', probeLeaseHolder: null });
  });

  it('works with a client that connects later: local until then, shared afterwards', async () => {
    const client = nodeRedis(false);
    const ns = freshNamespace();
    const { coordination } = started(createRedisCoordination({ client, namespace: ns, instanceId: 'late' }));
    expect(() => coordination.publish({ endpoint: 'primary', state: 'open' })).not.toThrow();
    const t0 = Date.now();
    expect(await coordination.shouldProbe()).toBe(true);
    expect(Date.now() - t0).toBeLessThan(100);
    expect(coordination.status().active).toBe(false);
    await client.connect();
    await waitFor(() => isActive(coordination), 2000, 'active');
    // The change made before the connection is stored once Redis is reachable.
    const stored = await eventually(() => admin.get(`${ns}:endpoint:${ENDPOINTS[0]!.id}`), 2000);
    expect(JSON.parse(stored)).toMatchObject({ state: 'open', instanceId: 'late' });
  });

  it('stays bounded while Redis is frozen: no throw, no wait beyond its own timeout', async () => {
    const { coordination } = started(createRedisCoordination({ client: nodeRedis(), namespace: freshNamespace(), commandTimeoutMs: 200 }));
    await waitFor(() => isActive(coordination), 2000, 'active');
    server.freeze();
    try {
      expect(() => coordination.publish({ endpoint: 'primary', state: 'open' })).not.toThrow();
      const t0 = Date.now();
      expect(await coordination.shouldProbe()).toBe(true);
      const waited = Date.now() - t0;
      expect(waited).toBeGreaterThanOrEqual(150);
      expect(waited).toBeLessThan(500);
      await waitFor(() => !isActive(coordination), 1500, 'inactive');
      const t1 = Date.now();
      await coordination.close();
      expect(Date.now() - t1).toBeLessThan(1000);
    } finally {
      server.thaw();
    }
  });

  it('close() releases the lease, closes its own subscriber, stops its timers and leaves the client open', async () => {
    const ns = freshNamespace();
    const client = nodeRedis();
    const sent: string[] = [];
    const original = client.sendCommand.bind(client);
    (client as { sendCommand: unknown }).sendCommand = (args: string[], ...rest: unknown[]) => {
      sent.push(args[0]!);
      return (original as (...a: unknown[]) => Promise<unknown>)(args, ...rest);
    };
    const coordination = createRedisCoordination({ client, namespace: ns, instanceId: 'closer', syncIntervalMs: 50, leaseMs: 5000 });
    coordination.start(ENDPOINTS, () => {});
    await waitFor(() => isActive(coordination), 2000, 'active');
    expect(await coordination.shouldProbe()).toBe(true);
    expect(await admin.get(`${ns}:probe-lease`)).toBe('closer');
    expect(coordination.status().probeLeaseHolder).toBe('closer');
    const numsub = async () => Number((await admin.sendCommand<[string, number]>(['PUBSUB', 'NUMSUB', `${ns}:changes`]))[1]);
    expect(await eventually(async () => (await numsub()) === 1 || null, 2000)).toBe(true);

    await coordination.close();
    await coordination.close(); // idempotent
    expect(await admin.get(`${ns}:probe-lease`)).toBeNull();
    expect(await numsub()).toBe(0);
    expect(coordination.status()).toMatchObject({ active: false, probeLeaseHolder: null });
    const count = sent.length;
    await sleep(300);
    expect(sent.length).toBe(count);
    expect(await client.ping()).toBe('PONG');
    // After close, nothing is sent and every method still answers.
    coordination.publish({ endpoint: 'primary', state: 'open' });
    expect(await coordination.shouldProbe()).toBe(true);
    expect(sent.length).toBe(count);
  });

  it('shares changes within a namespace only, and never hands a process its own change', async () => {
    const ns = freshNamespace();
    const a = started(createRedisCoordination({ client: nodeRedis(), namespace: ns, instanceId: 'a' }));
    const b = started(createRedisCoordination({ client: nodeRedis(), namespace: freshNamespace(), instanceId: 'b' }));
    const c = started(createRedisCoordination({ client: nodeRedis(), namespace: ns, instanceId: 'c' }));
    await waitFor(() => [a, b, c].every((x) => isActive(x.coordination)), 2000, 'active');
    await sleep(100); // subscribed
    a.coordination.publish({ endpoint: 'primary', state: 'open' });
    await waitFor(() => c.changes.length === 1, 1000, 'c to hear');
    expect(c.changes[0]).toMatchObject({ endpoint: 'primary', state: 'open', instanceId: 'a', epoch: expect.any(Number) });
    await sleep(700); // a re-read too
    expect(a.changes).toEqual([]);
    expect(b.changes).toEqual([]);
    expect(c.changes).toHaveLength(1);
  });

  it('orders changes by the server clock, across a restart, and ignores older ones', async () => {
    const ns = freshNamespace();
    const key = `${ns}:endpoint:${ENDPOINTS[0]!.id}`;
    const a = started(createRedisCoordination({ client: nodeRedis(), namespace: ns, instanceId: 'a' }));
    const b = started(createRedisCoordination({ client: nodeRedis(), namespace: ns, instanceId: 'b' }));
    await waitFor(() => isActive(a.coordination) && isActive(b.coordination), 2000, 'active');
    a.coordination.publish({ endpoint: 'primary', state: 'open' });
    await waitFor(() => b.changes.length === 1, 1000, 'b to hear');
    const before = JSON.parse((await admin.get(key))!).epoch as number;
    // Microseconds of the server's clock.
    expect(Math.abs(before / 1000 - Date.now())).toBeLessThan(5000);

    await server.restart();
    await waitFor(() => admin.isReady, 5000, 'admin to reconnect');
    expect(await admin.get(key)).toBeNull();
    await waitFor(() => isActive(a.coordination) && isActive(b.coordination), 5000, 'active again');
    a.coordination.publish({ endpoint: 'primary', state: 'closed' });
    await waitFor(() => b.changes.length === 2, 2000, 'b to hear the second change');
    expect(b.changes[1]!.state).toBe('closed');
    expect(b.changes[1]!.epoch).toBeGreaterThan(before);

    // Something older than what b knows (a stale writer) is not applied.
    await admin.set(key, JSON.stringify({ endpoint: ENDPOINTS[0]!.id, state: 'open', epoch: before, instanceId: 'stale' }), { PX: 60_000 });
    await sleep(700);
    expect(b.changes).toHaveLength(2);
    // Garbage in the key is ignored too.
    await admin.set(key, 'not json', { PX: 60_000 });
    await sleep(700);
    expect(b.changes).toHaveLength(2);
  });

  it('works the same over ioredis', async () => {
    const ns = freshNamespace();
    const clients = [new Redis(server.url), new Redis(server.url)];
    for (const client of clients) {
      client.on('error', () => {});
      cleanups.push(() => client.disconnect());
    }
    const a = started(createRedisCoordination({ client: clients[0]!, namespace: ns, instanceId: 'a' }));
    const b = started(createRedisCoordination({ client: clients[1]!, namespace: ns, instanceId: 'b' }));
    await waitFor(() => isActive(a.coordination) && isActive(b.coordination), 2000, 'active');
    expect(await a.coordination.shouldProbe()).toBe(true);
    expect(await b.coordination.shouldProbe()).toBe(false);
    await sleep(600);
    expect(b.coordination.status().probeLeaseHolder).toBe('a');
    b.coordination.publish({ endpoint: 'fallback', state: 'open' });
    await waitFor(() => a.changes.length === 1, 1000, 'a to hear');
    expect(a.changes[0]).toMatchObject({ endpoint: 'fallback', state: 'open', instanceId: 'b' });
    await a.coordination.close();
    expect(await admin.get(`${ns}:probe-lease`)).toBeNull();
    expect(await b.coordination.shouldProbe()).toBe(true);
  });
});
