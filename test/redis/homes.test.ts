/**
 * Which endpoint created a stored id, shared through Redis (coordination/redis/homes.ts): a
 * conversation one process created on the fallback continues there from another process, after
 * the primary recovered. Also what Redis holds for it (namespaced keys with a TTL, an endpoint
 * hash and nothing else), that Redis trouble never breaks a call (a lookup is skipped while Redis
 * is known down), and the two methods on their own.
 *
 * Nothing sleeps and then looks: a "nothing was sent" check comes after something that must have
 * followed it on the same connection, or after the call that would have sent it.
 */
import { createHash } from 'node:crypto';
import { createClient } from 'redis';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createRedisCoordination, ResilientOpenAI, type Coordination } from '../../src/index.js';
import { redisServer, type RedisServer } from '../support/redis-server.js';
import { startUpstream, type RecordedRequest, type Upstream } from '../support/upstream.js';
import {
  clusterHooks,
  FLEET_TEST_MS,
  PATIENCE_MS,
  recover,
  senderOf,
  trackUnhandled,
  waitFor,
  type Cluster,
  type WorkerEvent,
} from './fleet.js';

const API_KEY = 'sk-redis-homes-SECRET-0123456789';
/** The workers' `affinity.ttlMs`: far below the 30-day default, so that a PTTL shows it was used. */
const TTL_MS = 120_000;
/** For clients whose Redis answers: no command may count as timed out on a slow machine. */
const PATIENT = { commandTimeoutMs: 10_000 };

/** The endpoint id the coordination uses (setup/shared.ts): a hash of the name and the redacted base URL. */
const endpointId = (name: string, baseURL: string) => createHash('sha256').update(`${name}\n${baseURL}`).digest('hex').slice(0, 16);
const namesId = (id: string) => (r: RecordedRequest) => r.body.includes(id);

type Answer = { id: string; text: string } | { error: { status: number | null; code: string | null; message: string } };

describe('a stored id created in one process, continued in another', () => {
  const clusters = clusterHooks();
  let cluster: Cluster;

  beforeAll(async () => {
    cluster = await clusters.start({
      size: 3,
      apiKey: API_KEY,
      stored: true,
      ...PATIENT,
      // Worker 2 shares breakers through the same Redis but not ids: the control.
      perWorker: (index) => ({ affinity: { ttlMs: TTL_MS }, shareHomes: index !== 2 }),
    });
  }, FLEET_TEST_MS);

  const homeKey = (id: string) => `{${cluster.fleet.namespace}}:home:${id}`;
  /** Waits until Redis holds the home of `id` (rememberHomes is fire and forget), and returns it. */
  const storedHome = async (id: string) =>
    waitFor(async () => (await (await cluster.admin()).get(homeKey(id))) ?? undefined, PATIENCE_MS, `the home of ${id} in Redis`, 10);
  const switchedTo = (to: string, workers: number[], mark: number) => () =>
    workers.every((w) =>
      cluster.fleet.events.slice(mark).some((e: WorkerEvent) => e.worker === w && e.event === 'switched' && e.data.to === to),
    );

  it(
    'created on the fallback by A during an outage, continued by B on the fallback after the primary recovered; without sharing, the primary answers 404',
    async () => {
      const { fleet, primary, fallback } = cluster;
      const [a, b, control] = fleet.workers as [(typeof fleet.workers)[0], (typeof fleet.workers)[0], (typeof fleet.workers)[0]];

      const mark = fleet.events.length;
      primary.setFault({ kind: 'bad-gateway' });
      const first = await a.request<{ id: string; text: string }>('create-response', 'hello');
      expect(first.text).toBe('hello from fallback');
      expect(fallback.stored!.ids('response')).toContain(first.id);
      // The outage reached every process (pub/sub), so each has a breaker to close again.
      await waitFor(switchedTo('fallback', [b.index, control.index], mark), PATIENCE_MS, 'every worker on the fallback');
      await storedHome(first.id);

      primary.setFault(null);
      await recover(fleet, a);
      expect((await cluster.statuses()).map((s) => s.activeEndpoint)).toEqual(['primary', 'primary', 'primary']);
      const [primaryMark, fallbackMark] = [primary.requests.length, fallback.requests.length];

      // B never saw the id: it asks Redis, and sends the follow-up where the response lives.
      expect((await b.request('status')).affinity.size).toBe(0);
      const next = await b.request<Answer>('continue-response', first.id);
      expect(next).toEqual({ id: expect.any(String), text: 'hello from fallback' });
      expect(fallback.requests.slice(fallbackMark).filter(namesId(first.id)).map(senderOf)).toEqual([b.index]);
      expect(primary.requests.slice(primaryMark).filter(namesId(first.id))).toEqual([]);
      // ...and remembers it from then on (and the follow-up's own ids).
      expect((await b.request('status')).affinity.size).toBeGreaterThan(0);

      // The control shares the same breakers but not ids: it sends the follow-up by today's rule,
      // to the primary, which does not have that response.
      const refused = await control.request<Answer>('continue-response', first.id);
      expect(refused).toMatchObject({ error: { status: 404, code: 'previous_response_not_found' } });
      expect(primary.requests.slice(primaryMark).filter(namesId(first.id)).map(senderOf)).toEqual([control.index]);
    },
    FLEET_TEST_MS,
  );

  it(
    'Redis holds, per id, an endpoint hash under a namespaced key with the client’s TTL: no URL, no key, no body',
    async () => {
      const { fleet, primary, fallback } = cluster;
      const a = fleet.workers[0]!;
      const created = await a.request<{ id: string; text: string }>('create-response', 'a question with a body');
      await storedHome(created.id);

      const admin = await cluster.admin();
      const keys = await admin.keys('*');
      expect(keys.every((k) => k.startsWith(`{${fleet.namespace}}:`))).toBe(true);
      const homes = keys.filter((k) => k.startsWith(`{${fleet.namespace}}:home:`));
      expect(homes).toContain(homeKey(created.id));
      const status = (await cluster.statuses())[0]!;
      const ids = {
        primary: endpointId('primary', status.endpoints[0].baseURL),
        fallback: endpointId('fallback', status.endpoints[1].baseURL),
      };
      const createdBy = (id: string) =>
        primary.stored!.ids().includes(id) ? ids.primary
        : fallback.stored!.ids().includes(id) ? ids.fallback
        : undefined;
      for (const key of homes) {
        const pttl = await admin.pTTL(key);
        expect(pttl, key).toBeGreaterThan(0);
        expect(pttl, key).toBeLessThanOrEqual(TTL_MS);
        // The hash of the endpoint that created it, and nothing else.
        expect(await admin.get(key), key).toBe(createdBy(key.slice(homeKey('').length)));
      }
      expect([ids.primary, ids.fallback]).toContain(await admin.get(homeKey(created.id)));

      // Every key, ours or the breakers': no URL, no key (not even part of it), no body.
      const forbidden = ['SECRET', API_KEY.slice(0, 12), '127.0.0.1', 'localhost', 'http', '/v1', 'a question with a body', 'hello from'];
      for (const key of keys) {
        expect(await admin.type(key), key).toBe('string');
        const value = (await admin.get(key)) ?? '';
        for (const word of forbidden) expect(`${key} = ${value}`).not.toContain(word);
      }
    },
    FLEET_TEST_MS,
  );
});

// In one process from here on: clients with a Redis connection each, and what they send.
describe('in one process', () => {
  const unhandled = trackUnhandled();
  let server: RedisServer;
  let admin: ReturnType<typeof createClient>;
  let primary: Upstream;
  let fallback: Upstream;
  const cleanups: (() => unknown)[] = [];
  let namespaceCount = 0;
  const freshNamespace = () => `homes-${process.pid}-${++namespaceCount}`;

  beforeAll(async () => {
    server = await redisServer();
    admin = createClient({ url: server.url });
    admin.on('error', () => {});
    await admin.connect();
    [primary, fallback] = await Promise.all([
      startUpstream({ name: 'primary', stored: true }),
      startUpstream({ name: 'fallback', stored: true }),
    ]);
  });

  afterEach(async () => {
    if (server.running) server.thaw();
    else await server.start();
    while (cleanups.length) await cleanups.pop()!();
    primary.setFault(null);
    expect(unhandled.reasons).toEqual([]);
  });

  afterAll(async () => {
    await admin?.close().catch(() => {});
    await Promise.all([primary?.close(), fallback?.close()]);
    await server?.close();
    unhandled.stop();
  });

  /** A node-redis client (closed after the test), and every command sent through it. */
  function nodeRedis(url = server.url) {
    const client = createClient({ url });
    client.on('error', () => {});
    client.connect().catch(() => {});
    cleanups.push(() => client.isOpen && client.destroy());
    const sent: string[][] = [];
    const original = client.sendCommand.bind(client);
    (client as { sendCommand: unknown }).sendCommand = (args: string[], ...rest: unknown[]) => {
      sent.push([...args]);
      return (original as (...a: unknown[]) => Promise<unknown>)(args, ...rest);
    };
    return Object.assign(client, { sent });
  }

  /** A client over the stored upstreams, sharing through Redis; its key tells the upstreams who sent. */
  function resilient(who: string, ns: string, redisOptions: { commandTimeoutMs?: number; syncIntervalMs?: number } = PATIENT) {
    const redis = nodeRedis();
    const coordination = createRedisCoordination({ client: redis, namespace: ns, instanceId: who, ...redisOptions });
    const client = new ResilientOpenAI({
      apiKey: `${API_KEY}-${who}`,
      baseURL: primary.url,
      fallback: { apiKey: `${API_KEY}-fallback-${who}`, baseURL: fallback.url },
      healthCheck: false,
      retry: { initialDelayMs: 1, maxDelayMs: 5 },
      affinity: { ttlMs: TTL_MS },
      coordination,
    }).start();
    cleanups.push(() => client[Symbol.asyncDispose]());
    return { client, coordination, sent: redis.sent };
  }

  type Resilient = ReturnType<typeof resilient>;
  const sentBy = (request: RecordedRequest) => /-(\w+)$/.exec(String(request.headers.authorization ?? ''))?.[1];
  const isActive = (c: Resilient) => c.coordination.status().active;
  /** Lookups of ids sent to Redis from `from` on. */
  const lookups = (sent: string[][], from: number) =>
    sent.slice(from).filter((args) => args[0] === 'MGET' && args.some((a) => a.includes(':home:')));
  const create = async (c: Resilient, input = 'hello') => c.client.responses.create({ model: 'gpt-test', input });
  const follow = (c: Resilient, id: string) => c.client.responses.create({ model: 'gpt-test', input: 'more', previous_response_id: id });

  async function closePrimary(...clients: Resilient[]): Promise<void> {
    for (const c of clients) {
      // Two passing probes close the primary's breaker (breaker.successThreshold).
      await c.client.checkPrimary();
      await c.client.checkPrimary();
      expect(c.client.activeEndpoint).toBe('primary');
    }
  }

  describe('Redis trouble degrades to what each process knows', () => {
    it(
      'frozen, then stopped: calls succeed and go where their ids live; an id only Redis knew goes by today’s rule, with no lookup sent',
      async () => {
        const ns = freshNamespace();
        // Short bounds, so that a frozen Redis is soon known down (a timed-out re-read).
        const bounds = { commandTimeoutMs: 300, syncIntervalMs: 50 };
        const a = resilient('a', ns, bounds);
        const b = resilient('b', ns, bounds);
        await waitFor(() => isActive(a) && isActive(b), PATIENCE_MS, 'both active');

        primary.setFault({ kind: 'bad-gateway' });
        const r1 = await create(a);
        expect(r1.output_text).toBe('hello from fallback');
        await waitFor(async () => (await admin.get(`{${ns}}:home:${r1.id}`)) ?? undefined, PATIENCE_MS, 'the home of r1 in Redis');
        await waitFor(() => b.client.activeEndpoint === 'fallback', PATIENCE_MS, 'b to follow the outage');

        // Frozen: the connections stay open and nothing is answered; a re-read times out.
        server.freeze();
        await waitFor(() => !isActive(a) && !isActive(b), PATIENCE_MS, 'both to know Redis is down');
        const [aMark, bMark] = [a.sent.length, b.sent.length];
        const r2 = await create(a);
        expect(r2.output_text).toBe('hello from fallback');
        primary.setFault(null);
        await closePrimary(a, b);
        const primaryMark = primary.requests.length;
        expect((await follow(a, r2.id)).output_text).toBe('hello from fallback');
        expect((await follow(a, r1.id)).output_text).toBe('hello from fallback');
        // B never saw r1, and cannot ask: today's rule sends it to the primary, which does not have it.
        await expect(follow(b, r1.id)).rejects.toMatchObject({ status: 404, code: 'previous_response_not_found' });
        expect(primary.requests.slice(primaryMark).filter(namesId(r1.id)).map(sentBy)).toEqual(['b']);
        expect(isActive(b)).toBe(false);
        // No lookup went to the frozen server: it would have waited for the command timeout.
        expect(lookups(a.sent, aMark)).toEqual([]);
        expect(lookups(b.sent, bMark)).toEqual([]);

        // Stopped: the connections are gone.
        await server.stop();
        await waitFor(() => !isActive(a) && !isActive(b), PATIENCE_MS, 'both to know Redis is down');
        const stoppedMark = b.sent.length;
        const r3 = await create(a);
        expect(r3.output_text).toBe('hello from primary');
        expect((await follow(a, r3.id)).output_text).toBe('hello from primary');
        expect((await follow(a, r1.id)).output_text).toBe('hello from fallback');
        await expect(follow(b, r2.id)).rejects.toMatchObject({ status: 404, code: 'previous_response_not_found' });
        expect(lookups(b.sent, stoppedMark)).toEqual([]);

        // Back (empty): what is created from now on is shared again.
        await server.start();
        await waitFor(() => isActive(a) && isActive(b), PATIENCE_MS, 'both active again');
        const r4 = await create(a);
        await waitFor(async () => (await admin.get(`{${ns}}:home:${r4.id}`)) ?? undefined, PATIENCE_MS, 'the home of r4 in Redis');
        expect(await b.coordination.findHome!([r1.id, r4.id])).toEqual({ id: r4.id, endpoint: 'primary' });
      },
      FLEET_TEST_MS,
    );
  });

  describe('rememberHomes and findHome', () => {
    const ENDPOINTS = [
      { name: 'primary', id: 'aaaaaaaaaaaaaaaa' },
      { name: 'fallback', id: 'bbbbbbbbbbbbbbbb' },
    ];

    function started(client: Parameters<typeof createRedisCoordination>[0]['client'], ns: string, endpoints = ENDPOINTS): Coordination {
      const coordination = createRedisCoordination({ client, namespace: ns, ...PATIENT });
      coordination.start(endpoints, () => {});
      cleanups.push(() => coordination.close());
      return coordination;
    }

    it('a coordination never started finds nothing and stores nothing, at once', async () => {
      const redis = nodeRedis();
      await waitFor(() => redis.isReady, PATIENCE_MS, 'connected');
      const ns = freshNamespace();
      await admin.set(`{${ns}}:home:resp_1`, ENDPOINTS[1]!.id);
      const coordination = createRedisCoordination({ client: redis, namespace: ns });
      expect(coordination.rememberHomes!(['resp_2'], 'fallback', 60_000)).toBeUndefined();
      expect(await coordination.findHome!(['resp_1'])).toBeUndefined();
      expect(redis.sent).toEqual([]);
    });

    it('stores one key per id with its TTL, skips an unknown endpoint, and finds the first known id in order', async () => {
      const redis = nodeRedis();
      const ns = freshNamespace();
      const coordination = started(redis, ns);
      await waitFor(() => coordination.status().active, PATIENCE_MS, 'active');

      coordination.rememberHomes!(['resp_unknown'], 'elsewhere', 60_000);
      coordination.rememberHomes!(['resp_1', 'msg_1', 'resp_1'], 'fallback', 60_000);
      // The SETs go out in order on one connection: once the second call's keys are there, the
      // first would have been too.
      await waitFor(async () => (await admin.exists([`{${ns}}:home:resp_1`, `{${ns}}:home:msg_1`])) === 2, PATIENCE_MS, 'the keys', 10);
      expect(await admin.exists(`{${ns}}:home:resp_unknown`)).toBe(0);
      expect(redis.sent.filter((args) => args[0] === 'SET')).toEqual([
        ['SET', `{${ns}}:home:resp_1`, ENDPOINTS[1]!.id, 'PX', '60000'],
        ['SET', `{${ns}}:home:msg_1`, ENDPOINTS[1]!.id, 'PX', '60000'],
      ]);

      // Another process's endpoint (not one of ours) is skipped; the first id we can use wins.
      await admin.set(`{${ns}}:home:resp_theirs`, 'cccccccccccccccc');
      await admin.set(`{${ns}}:home:resp_0`, ENDPOINTS[0]!.id);
      expect(await coordination.findHome!(['nope', 'resp_theirs', 'resp_1', 'resp_0'])).toEqual({ id: 'resp_1', endpoint: 'fallback' });
      expect(await coordination.findHome!(['resp_0', 'resp_1'])).toEqual({ id: 'resp_0', endpoint: 'primary' });
      expect(await coordination.findHome!(['nope', 'resp_theirs'])).toBeUndefined();
      expect(await coordination.findHome!([])).toBeUndefined();
      // One lookup per call, at most: the empty list sent none.
      expect(lookups(redis.sent, 0)).toHaveLength(3);
    });

    it('bounds what one answer sends, and skips ids too long to be looked up', async () => {
      const redis = nodeRedis();
      const ns = freshNamespace();
      const coordination = started(redis, ns);
      await waitFor(() => coordination.status().active, PATIENCE_MS, 'active');
      const many = Array.from({ length: 200 }, (_, i) => `file-${i}`);
      coordination.rememberHomes!(['x'.repeat(201), ...many], 'primary', 60_000);
      // The adapter hands each command to the client a microtask later.
      await new Promise((resolve) => setImmediate(resolve));
      const sets = redis.sent.filter((args) => args[0] === 'SET');
      // Half the library's cap of unanswered commands (64): breaker changes always find room.
      expect(sets).toHaveLength(32);
      expect(sets.map((args) => args[1])).toEqual(many.slice(0, 32).map((id) => `{${ns}}:home:${id}`));
      await waitFor(async () => (await admin.exists(`{${ns}}:home:file-31`)) === 1, PATIENCE_MS, 'the last key', 10);
      // Once they are answered, the next answer is shared again; Redis was never counted as down.
      await waitFor(
        () => {
          coordination.rememberHomes!(['file-late'], 'primary', 60_000);
          return redis.sent.some((args) => args[1] === `{${ns}}:home:file-late`);
        },
        PATIENCE_MS,
        'room again',
      );
      expect(coordination.status().active).toBe(true);
    });

    it('works the same over ioredis', async () => {
      const client = new Redis(server.url, { lazyConnect: false });
      client.on('error', () => {});
      cleanups.push(() => client.disconnect());
      const ns = freshNamespace();
      const coordination = started(client, ns);
      await waitFor(() => coordination.status().active, PATIENCE_MS, 'active');
      coordination.rememberHomes!(['resp_io'], 'fallback', 60_000);
      await waitFor(async () => (await admin.exists(`{${ns}}:home:resp_io`)) === 1, PATIENCE_MS, 'the key', 10);
      expect(await admin.pTTL(`{${ns}}:home:resp_io`)).toBeGreaterThan(0);
      expect(await coordination.findHome!(['resp_io'])).toEqual({ id: 'resp_io', endpoint: 'fallback' });
    });

    it('after close(), finds nothing and stores nothing', async () => {
      const redis = nodeRedis();
      const ns = freshNamespace();
      const coordination = started(redis, ns);
      await waitFor(() => coordination.status().active, PATIENCE_MS, 'active');
      await admin.set(`{${ns}}:home:resp_1`, ENDPOINTS[0]!.id);
      await coordination.close();
      const mark = redis.sent.length;
      coordination.rememberHomes!(['resp_2'], 'primary', 60_000);
      expect(await coordination.findHome!(['resp_1'])).toBeUndefined();
      expect(redis.sent.slice(mark)).toEqual([]);
    });
  });
});
