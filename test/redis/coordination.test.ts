/**
 * createRedisCoordination() in one process, against a real redis-server: options, a client that
 * is not connected yet, a frozen server, close(), namespaces and the epoch across a restart.
 *
 * Nothing here sleeps and then looks: a "nothing happened" check comes after an event that must
 * happen after the thing that must not (a re-read answered, a control's timer that did fire), or
 * under fake timers.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import { createClient } from 'redis';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createRedisCoordination, ResilientOpenAI, type Coordination, type RemoteChange } from '../../src/index.js';
import { redisServer, type RedisServer } from '../support/redis-server.js';
import { startUpstream } from '../support/upstream.js';
import { PATIENCE_MS, trackUnhandled, waitFor } from './fleet.js';

const ENDPOINTS = [
  { name: 'primary', id: 'aaaaaaaaaaaaaaaa' },
  { name: 'fallback', id: 'bbbbbbbbbbbbbbbb' },
];
/** For coordinations whose Redis answers: no command may count as timed out on a slow machine. */
const PATIENT = { commandTimeoutMs: 10_000 };
const TEST_MS = 60_000;

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
  vi.useRealTimers();
  if (server.running) server.thaw();
  while (cleanups.length) await cleanups.pop()!();
  expect(unhandled.reasons).toEqual([]);
});

afterAll(async () => {
  await admin?.close().catch(() => {});
  await server?.close();
  unhandled.stop();
});

/** A node-redis client (closed after the test), and the commands the coordination sends through it. */
function nodeRedis(connect = true, url = server.url) {
  const client = createClient({ url });
  client.on('error', () => {});
  if (connect) client.connect().catch(() => {});
  cleanups.push(() => client.isOpen && client.destroy());
  const sent: { name: string; answered: boolean }[] = [];
  const original = client.sendCommand.bind(client);
  (client as { sendCommand: unknown }).sendCommand = (args: string[], ...rest: unknown[]) => {
    const entry = { name: args[0]!, answered: false };
    sent.push(entry);
    const reply = (original as (...a: unknown[]) => Promise<unknown>)(args, ...rest);
    reply.then(
      () => (entry.answered = true),
      () => {},
    );
    return reply;
  };
  return Object.assign(client, { sent });
}

/**
 * Re-reads (MGET) sent at or after `from` and answered. Each starts only once the one before it
 * is done, and its reply is applied before any timer runs: once this count is 1, a re-read that
 * began after `from` has been applied.
 */
const reReads = (sent: { name: string; answered: boolean }[], from: number) =>
  sent.slice(from).filter((c) => c.name === 'MGET' && c.answered).length;

let namespaceCount = 0;
const freshNamespace = () => `unit-${process.pid}-${++namespaceCount}`;

function started(coordination: Coordination): { coordination: Coordination; changes: RemoteChange[] } {
  const changes: RemoteChange[] = [];
  coordination.start(ENDPOINTS, (change) => changes.push(change));
  cleanups.push(() => coordination.close());
  return { coordination, changes };
}

const isActive = (c: Coordination) => c.status().active;
const stateKey = (ns: string, endpoint: 0 | 1) => `{${ns}}:endpoint:${ENDPOINTS[endpoint]!.id}`;
const numsub = async (ns: string) => Number((await admin.sendCommand<[string, number]>(['PUBSUB', 'NUMSUB', `{${ns}}:changes`]))[1]);
/** The server's clock in microseconds: the epoch a change published now would get. */
const serverEpoch = async () => {
  const [seconds, micros] = await admin.sendCommand<[string, string]>(['TIME']);
  return Number(seconds) * 1_000_000 + Number(micros);
};
/** A change as the coordination stores it, written by hand. */
const storedChange = (endpoint: 0 | 1, state: 'open' | 'closed', epoch: number, instanceId: string) =>
  JSON.stringify({ endpoint: ENDPOINTS[endpoint]!.id, state, epoch, instanceId });

/** A promise, and whether it has settled yet. */
function tracked<T>(promise: Promise<T>): { promise: Promise<T>; readonly settled: boolean } {
  let settled = false;
  void promise.then(
    () => (settled = true),
    () => (settled = true),
  );
  return {
    promise,
    get settled() {
      return settled;
    },
  };
}

/** Resolves `'not yet'` once the event loop turns (I/O, timers): before it, only microtasks have run. */
const nextTurn = () => new Promise<'not yet'>((resolve) => setImmediate(() => resolve('not yet')));

// Waits for what must happen are patient (PATIENCE_MS): so is every test.
describe('createRedisCoordination', { timeout: TEST_MS }, () => {
  it('imports no Redis client in the library', () => {
    const dir = new URL('../../src/', import.meta.url);
    const files = readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
    const sources = files.map((file) => [file, readFileSync(new URL(file, dir), 'utf8')] as const);
    // The scan reaches the Redis coordination, wherever it lives.
    expect(sources.filter(([, source]) => source.includes('function createRedisCoordination'))).toHaveLength(1);
    for (const [file, source] of sources) {
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

  it('is usable before its backend has loaded: an id drawn meanwhile is kept, calls arrive in order', async () => {
    const client = nodeRedis(true);
    await waitFor(() => client.isReady || undefined, PATIENCE_MS, 'connected');
    const ns = freshNamespace();
    // The backend's module loads on first use (a dynamic import): nothing below waits for it.
    const coordination = createRedisCoordination({ client, namespace: ns, ...PATIENT });
    const early = coordination.status();
    expect(early).toEqual({ backend: 'redis', active: false, instanceId: expect.stringMatching(/^[0-9a-f]{8}$/), probeLeaseHolder: null });
    started(coordination);
    coordination.publish({ endpoint: 'primary', state: 'open' });
    coordination.publish({ endpoint: 'primary', state: 'closed' });
    await waitFor(() => isActive(coordination) || undefined, PATIENCE_MS, 'active');
    expect(coordination.status().instanceId).toBe(early.instanceId);
    // Both changes were handed over, in order: the stored one is the later, under the early id.
    const stored = await waitFor(
      async () => {
        const value = await admin.get(stateKey(ns, 0));
        return value && JSON.parse(value).state === 'closed' ? value : undefined;
      },
      PATIENCE_MS,
      'the change in Redis',
      10,
    );
    expect(JSON.parse(stored)).toMatchObject({ state: 'closed', instanceId: early.instanceId });
  });

  it('closed before its backend has loaded: starts nothing', async () => {
    const client = nodeRedis(true);
    let duplicated = 0;
    const duplicate = client.duplicate.bind(client);
    (client as { duplicate: unknown }).duplicate = (...args: never[]) => (duplicated++, duplicate(...args));
    const coordination = createRedisCoordination({ client, namespace: freshNamespace() });
    coordination.start(ENDPOINTS, () => {});
    // close() settles once the backend is there and closed; a start handed to it would have
    // opened the subscriber connection (duplicate()) and sent the first re-read synchronously.
    await coordination.close();
    expect(duplicated).toBe(0);
    expect(client.sent).toEqual([]);
    expect(await coordination.shouldProbe()).toBe(true);
    // The control: the same calls on a coordination that is not closed do start it.
    const control = createRedisCoordination({ client, namespace: freshNamespace() });
    started(control);
    await waitFor(() => duplicated || undefined, PATIENCE_MS, 'the control subscribed');
    expect(duplicated).toBe(1);
  });

  it('works with a client that connects later: local until then, shared afterwards', async () => {
    // A Redis that is not there yet: the client keeps trying to connect (commands sent now would
    // wait in its offline queue).
    const later = await redisServer({ start: false });
    cleanups.push(() => later.close());
    const client = nodeRedis(true, later.url);
    const ns = freshNamespace();
    const { coordination } = started(createRedisCoordination({ client, namespace: ns, instanceId: 'late' }));
    // Fire and forget: nothing to await, nothing that could reject.
    expect(coordination.publish({ endpoint: 'primary', state: 'open' })).toBeUndefined();
    // "Probe locally", at once: before any I/O or timer (its own timeout, say) could have run.
    expect(await Promise.race([coordination.shouldProbe(), nextTurn()])).toBe(true);
    expect(coordination.status().active).toBe(false);
    expect(client.sent).toEqual([]);
    await later.start();
    await waitFor(() => isActive(coordination), PATIENCE_MS, 'active');
    // The change made before the connection is stored once Redis is reachable.
    const check = nodeRedis(true, later.url);
    const stored = await waitFor(
      async () => (check.isReady && (await check.get(stateKey(ns, 0)))) ?? undefined,
      PATIENCE_MS,
      'the change in Redis',
      10,
    );
    expect(JSON.parse(stored)).toMatchObject({ state: 'open', instanceId: 'late' });
  });

  it('stays bounded by its own timeout while Redis is frozen: answers "probe locally", closes', async () => {
    const timeoutMs = 200;
    const { coordination } = started(
      createRedisCoordination({ client: nodeRedis(), namespace: freshNamespace(), commandTimeoutMs: timeoutMs }),
    );
    await waitFor(() => isActive(coordination), PATIENCE_MS, 'active');
    server.freeze();
    // The library's timeouts on a fake clock: a frozen server never answers, so only the clock
    // can settle what follows.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    expect(coordination.publish({ endpoint: 'primary', state: 'open' })).toBeUndefined();
    const answer = tracked(coordination.shouldProbe());
    await vi.advanceTimersByTimeAsync(timeoutMs - 1);
    // It asked Redis, and waits for the answer...
    expect(answer.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    // ...up to its own timeout, then probes locally.
    expect(answer.settled).toBe(true);
    expect(await answer.promise).toBe(true);
    expect(coordination.status().active).toBe(false);
    // close() gives up the lease and the subscription within the same timeout.
    const closing = tracked(coordination.close());
    await vi.advanceTimersByTimeAsync(timeoutMs - 1);
    expect(closing.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(closing.settled).toBe(true);
  });

  it('never makes a call wait for Redis: with Redis frozen for good, a trip and the calls after it complete', async () => {
    const [primary, fallback] = await Promise.all([startUpstream({ name: 'primary' }), startUpstream({ name: 'fallback' })]);
    cleanups.push(() => Promise.all([primary.close(), fallback.close()]));
    const ns = freshNamespace();
    // No timeout at all: a call that waited for a Redis command would wait until the thaw.
    const redis = nodeRedis();
    const coordination = createRedisCoordination({ client: redis, namespace: ns, instanceId: 'caller', commandTimeoutMs: 2 ** 31 - 1 });
    const client = new ResilientOpenAI({
      apiKey: 'sk-redis-unit-SECRET-0123456789',
      baseURL: primary.url,
      fallback: { apiKey: 'sk-redis-unit-fallback-SECRET-0123456789', baseURL: fallback.url },
      healthCheck: false,
      coordination,
    }).start();
    cleanups.push(() => client.close());
    await waitFor(() => isActive(coordination), PATIENCE_MS, 'active');
    server.freeze();
    const chat = { model: 'gpt-test', messages: [{ role: 'user' as const, content: 'hi' }] };
    const breakers: string[] = [];
    client.on('breaker', (e) => breakers.push(`${e.endpoint} ${e.state}`));
    const before = redis.sent.length;
    // One 502 opens the primary's breaker: the change goes to Redis, which never answers.
    await client.chat.completions.create(chat, { headers: { 'x-test-status': '502' }, maxRetries: 0 }).catch(() => {});
    expect(breakers).toEqual(['primary open']);
    for (let i = 0; i < 3; i++) {
      const completion = await client.chat.completions.create(chat);
      expect(completion.choices[0]?.message.content).toBe('hello from fallback');
    }
    // The change was sent, and is still unanswered.
    expect(redis.sent.slice(before).map((c) => [c.name, c.answered])).toContainEqual(['EVAL', false]);
    server.thaw();
    // Once Redis answers, the change made meanwhile is there (under the client's own endpoint id).
    const [key] = await waitFor(
      async () => {
        const keys = await admin.keys(`{${ns}}:endpoint:*`);
        return keys.length > 0 && keys;
      },
      PATIENCE_MS,
      'the change in Redis',
      10,
    );
    expect(JSON.parse((await admin.get(key!))!)).toMatchObject({ state: 'open', instanceId: 'caller' });
  });

  it('close() releases the lease, closes its own subscriber, stops its timers and leaves the client open', async () => {
    const ns = freshNamespace();
    const timers = { syncIntervalMs: 50, leaseMs: 3000 };
    const client = nodeRedis();
    const coordination = createRedisCoordination({ client, namespace: ns, instanceId: 'closer', ...timers, ...PATIENT });
    coordination.start(ENDPOINTS, () => {});
    // A control with the same timers, which stays open.
    const controlClient = nodeRedis();
    const control = started(createRedisCoordination({ client: controlClient, namespace: freshNamespace(), ...timers, ...PATIENT }));
    await waitFor(() => isActive(coordination) && isActive(control.coordination), PATIENCE_MS, 'active');
    expect(await coordination.shouldProbe()).toBe(true);
    expect(await control.coordination.shouldProbe()).toBe(true);
    expect(await admin.get(`{${ns}}:probe-lease`)).toBe('closer');
    expect(coordination.status().probeLeaseHolder).toBe('closer');
    await waitFor(async () => (await numsub(ns)) === 1, PATIENCE_MS, 'the subscriber', 10);

    await coordination.close();
    await coordination.close(); // idempotent
    // close() waited for the release: gone now, long before the lease could expire.
    expect(await admin.get(`{${ns}}:probe-lease`)).toBeNull();
    await waitFor(async () => (await numsub(ns)) === 0, PATIENCE_MS, 'the subscriber to go', 10);
    expect(coordination.status()).toMatchObject({ active: false, probeLeaseHolder: null });
    // After close, nothing is sent and every method still answers.
    const count = client.sent.length;
    coordination.publish({ endpoint: 'primary', state: 'open' });
    expect(await coordination.shouldProbe()).toBe(true);
    // Meanwhile the control's timers fire: its re-reads (every 50 ms) and two lease renewals
    // (every 1 s, the period of the closed one's lease timer too).
    const mark = controlClient.sent.length;
    const since = (name: string) => controlClient.sent.slice(mark).filter((c) => c.name === name && c.answered).length;
    await waitFor(() => since('MGET') >= 3 && since('EVAL') >= 2, PATIENCE_MS, "the control's timers to fire");
    expect(client.sent.slice(count)).toEqual([]);
    expect(await client.ping()).toBe('PONG');
  });

  it('shares changes within a namespace only, and never hands a process its own change', async () => {
    const ns = freshNamespace();
    const other = freshNamespace();
    const clients = { a: nodeRedis(), b: nodeRedis() };
    const a = started(createRedisCoordination({ client: clients.a, namespace: ns, instanceId: 'a', ...PATIENT }));
    const b = started(createRedisCoordination({ client: clients.b, namespace: other, instanceId: 'b', ...PATIENT }));
    const b2 = started(createRedisCoordination({ client: nodeRedis(), namespace: other, instanceId: 'b2', ...PATIENT }));
    const c = started(createRedisCoordination({ client: nodeRedis(), namespace: ns, instanceId: 'c', ...PATIENT }));
    await waitFor(() => [a, b, b2, c].every((x) => isActive(x.coordination)), PATIENCE_MS, 'active');
    await waitFor(async () => (await numsub(ns)) === 2 && (await numsub(other)) === 2, PATIENCE_MS, 'every subscriber', 10);

    a.coordination.publish({ endpoint: 'primary', state: 'open' });
    await waitFor(() => c.changes.length === 1, PATIENCE_MS, 'c to hear');
    expect(c.changes[0]).toMatchObject({ endpoint: 'primary', state: 'open', instanceId: 'a', epoch: expect.any(Number) });
    // A change in b's namespace, published after a's: b hears it, so b would have heard a's
    // before it (Redis delivers one connection's messages in order).
    b2.coordination.publish({ endpoint: 'fallback', state: 'open' });
    await waitFor(() => b.changes.length > 0, PATIENCE_MS, 'b to hear b2');
    // A process that joins later gets the stored change from its first re-read.
    const d = started(createRedisCoordination({ client: nodeRedis(), namespace: ns, instanceId: 'd', ...PATIENT }));
    await waitFor(() => d.changes.length > 0, PATIENCE_MS, 'd to read the change');
    // (One re-read reads every key of the namespace: nothing of b's namespace came with it.)
    expect(d.changes).toEqual([{ endpoint: 'primary', state: 'open', instanceId: 'a', epoch: c.changes[0]!.epoch }]);

    // One of a's own changes that a never heard back about (as with a frozen Redis): c applies it, a does not.
    await admin.set(stateKey(ns, 1), storedChange(1, 'open', await serverEpoch(), 'a'), { PX: 60_000 });
    const marks = { a: clients.a.sent.length, b: clients.b.sent.length };
    await waitFor(() => c.changes.length === 2, PATIENCE_MS, 'c to read the second change');
    expect(c.changes[1]).toMatchObject({ endpoint: 'fallback', state: 'open', instanceId: 'a' });
    // a's and b's re-reads since then were applied: they read what c read.
    await waitFor(() => reReads(clients.a.sent, marks.a) >= 1 && reReads(clients.b.sent, marks.b) >= 1, PATIENCE_MS, 're-reads');
    expect(a.changes).toEqual([]);
    expect(b.changes).toEqual([{ endpoint: 'fallback', state: 'open', instanceId: 'b2', epoch: expect.any(Number) }]);
    expect(c.changes).toHaveLength(2);
  });

  it('orders changes by the server clock, across a restart, and ignores older ones and garbage', async () => {
    const ns = freshNamespace();
    const bClient = nodeRedis();
    const a = started(createRedisCoordination({ client: nodeRedis(), namespace: ns, instanceId: 'a', ...PATIENT }));
    const b = started(createRedisCoordination({ client: bClient, namespace: ns, instanceId: 'b', ...PATIENT }));
    await waitFor(() => isActive(a.coordination) && isActive(b.coordination), PATIENCE_MS, 'active');
    a.coordination.publish({ endpoint: 'primary', state: 'open' });
    await waitFor(() => b.changes.length === 1, PATIENCE_MS, 'b to hear');
    const before = JSON.parse((await admin.get(stateKey(ns, 0)))!).epoch as number;
    // Microseconds of the server's clock.
    expect(Math.abs(before / 1000 - Date.now())).toBeLessThan(5000);

    await server.restart();
    await waitFor(() => admin.isReady, PATIENCE_MS, 'admin to reconnect');
    expect(await admin.get(stateKey(ns, 0))).toBeNull();
    await waitFor(() => isActive(a.coordination) && isActive(b.coordination), PATIENCE_MS, 'active again');
    a.coordination.publish({ endpoint: 'primary', state: 'closed' });
    await waitFor(() => b.changes.length === 2, PATIENCE_MS, 'b to hear the second change');
    expect(b.changes[1]!.state).toBe('closed');
    expect(b.changes[1]!.epoch).toBeGreaterThan(before);

    // Written at once (MULTI), read by one re-read (MGET): the primary's key holds something b
    // must not apply, the fallback's key a newer change that b must apply.
    const rewrite = async (primaryValue: string, fallbackState: 'open' | 'closed') => {
      const epoch = await serverEpoch();
      await admin
        .multi()
        .set(stateKey(ns, 0), primaryValue, { PX: 60_000 })
        .set(stateKey(ns, 1), storedChange(1, fallbackState, epoch, 'writer'), { PX: 60_000 })
        .exec();
      await waitFor(() => b.changes.some((c) => c.endpoint === 'fallback' && c.state === fallbackState), PATIENCE_MS, 'b to re-read');
    };
    // Older than what b knows (a stale writer).
    await rewrite(storedChange(0, 'open', before, 'stale'), 'open');
    // Garbage.
    await rewrite('not json', 'closed');
    // One more re-read after both.
    const mark = bClient.sent.length;
    await waitFor(() => reReads(bClient.sent, mark) >= 1, PATIENCE_MS, 'a re-read');
    expect(b.changes.map((c) => [c.endpoint, c.state, c.instanceId])).toEqual([
      ['primary', 'open', 'a'],
      ['primary', 'closed', 'a'],
      ['fallback', 'open', 'writer'],
      ['fallback', 'closed', 'writer'],
    ]);
  });

  it('works the same over ioredis', async () => {
    const ns = freshNamespace();
    const clients = [new Redis(server.url), new Redis(server.url)];
    for (const client of clients) {
      client.on('error', () => {});
      cleanups.push(() => client.disconnect());
    }
    const a = started(createRedisCoordination({ client: clients[0]!, namespace: ns, instanceId: 'a', ...PATIENT }));
    const b = started(createRedisCoordination({ client: clients[1]!, namespace: ns, instanceId: 'b', ...PATIENT }));
    await waitFor(() => isActive(a.coordination) && isActive(b.coordination), PATIENCE_MS, 'active');
    await waitFor(async () => (await numsub(ns)) === 2, PATIENCE_MS, 'both subscribers', 10);
    expect(await a.coordination.shouldProbe()).toBe(true);
    expect(await b.coordination.shouldProbe()).toBe(false);
    // b's next re-read tells it who holds the lease.
    await waitFor(() => b.coordination.status().probeLeaseHolder === 'a', PATIENCE_MS, 'b to see the holder');
    b.coordination.publish({ endpoint: 'fallback', state: 'open' });
    await waitFor(() => a.changes.length === 1, PATIENCE_MS, 'a to hear');
    expect(a.changes[0]).toMatchObject({ endpoint: 'fallback', state: 'open', instanceId: 'b' });
    await a.coordination.close();
    expect(await admin.get(`{${ns}}:probe-lease`)).toBeNull();
    expect(await b.coordination.shouldProbe()).toBe(true);
  });
});
