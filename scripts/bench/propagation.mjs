// Propagation through Redis: how long after one process's breaker opens (or closes) every other
// process has switched. Starts its own redis-server (scripts/install-redis.sh) on a free loopback
// port, 8 worker processes running the built package (dist/) with createRedisCoordination over
// node-redis, and one small upstream. Each round trips the primary in one worker (a 502 sent to it
// alone) and recovers it from another (two health probes); the latency of a switch is the other
// worker's `switched` event minus the originating breaker event (wall clock, same machine).
// This file is also the worker: `node propagation.mjs worker`.
import { fork, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { percentile } from './lib.mjs';

const SELF = fileURLToPath(import.meta.url);
const PROCESSES = 8;
const wall = () => performance.timeOrigin + performance.now();
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

if (process.argv[1] === SELF && process.argv[2] === 'worker') await worker();

/** Runs `runs` trips and recoveries across 8 processes; latencies in ms. */
export async function propagation({ runs = 20 } = {}) {
  const redis = await startRedis();
  const upstream = await startUpstream();
  const namespace = `bench-${process.pid}`;
  const events = [];
  const workers = [];
  try {
    for (let i = 0; i < PROCESSES; i++) workers.push(startWorker(i, { redisUrl: redis.url, origin: upstream.origin, namespace }, events));
    await Promise.all(workers.map((w) => w.ready));
    // Every worker connected and subscribed.
    const deadline = Date.now() + 10_000;
    while (!(await Promise.all(workers.map((w) => w.request('active')))).every(Boolean)) {
      if (Date.now() > deadline) throw new Error('workers never reached Redis');
      await sleep(20);
    }
    await sleep(300);
    const switches = [];
    const recoveries = [];
    for (let k = 0; k < runs; k++) {
      const tripper = workers[k % PROCESSES];
      switches.push(...(await follow(workers, events, tripper, 'fallback', () => tripper.request('trip'))));
      const recoverer = workers[(k + 3) % PROCESSES];
      recoveries.push(...(await follow(workers, events, recoverer, 'primary', () => recoverer.request('recover'))));
    }
    return { processes: PROCESSES, trips: runs, switch: stats(switches), recover: stats(recoveries) };
  } finally {
    await Promise.all(workers.map((w) => w.close()));
    await upstream.close();
    await redis.close();
  }
}

function stats(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (x) => Math.round(x * 100) / 100;
  return {
    samples: sorted.length,
    p50Ms: round(percentile(sorted, 50)),
    p99Ms: round(percentile(sorted, 99)),
    maxMs: round(sorted.at(-1)),
  };
}

/** Runs `act` in `origin` (resolves the origin's breaker time) and waits until every other worker switched `to`. */
async function follow(workers, events, origin, to, act) {
  const mark = events.length;
  const changedAt = await act();
  const others = workers.filter((w) => w !== origin);
  const deadline = Date.now() + 5000;
  for (;;) {
    const recent = events.slice(mark);
    const hits = others.map((w) => recent.find((e) => e.worker === w.index && e.to === to));
    if (hits.every(Boolean)) return hits.map((e) => e.at - changedAt);
    if (Date.now() > deadline) throw new Error(`not every worker switched to ${to} within 5 s`);
    await sleep(2);
  }
}

function startWorker(index, config, events) {
  const child = fork(SELF, ['worker'], {
    env: { ...process.env, BENCH_WORKER: JSON.stringify({ index, ...config }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting = new Map();
  let nextId = 1;
  let onReady;
  const ready = new Promise((resolve) => (onReady = resolve));
  child.on('message', (message) => {
    if (message.ready) onReady();
    else if (message.switched) events.push({ worker: index, to: message.switched, at: message.at });
    else if (message.id) {
      const waiter = waiting.get(message.id);
      waiting.delete(message.id);
      if (message.error) waiter?.reject(new Error(`worker ${index}: ${message.error}`));
      else waiter?.resolve(message.result);
    }
  });
  const request = (cmd) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      waiting.set(id, { resolve, reject });
      child.send({ id, cmd });
    });
  const close = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await request('close').catch(() => {});
    const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
    await exited;
    clearTimeout(timer);
  };
  return { index, ready, request, close };
}

/** One upstream for both endpoints (`/primary/v1`, `/fallback/v1`); `x-bench-fail` answers 502. */
async function startUpstream() {
  const completion = JSON.stringify({
    id: 'chatcmpl-bench',
    object: 'chat.completion',
    created: 1,
    model: 'bench',
    choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'ok' } }],
  });
  const models = JSON.stringify({ object: 'list', data: [{ id: 'bench', object: 'model', created: 1, owned_by: 'bench' }] });
  const server = createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      if (req.headers['x-bench-fail']) return void res.writeHead(502, { 'content-type': 'text/html' }).end('<h1>502 Bad Gateway</h1>');
      const body = req.url?.endsWith('/models') ? models : completion;
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    origin: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))),
  };
}

async function startRedis() {
  const probe = createServer();
  await new Promise((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const port = probe.address().port;
  await new Promise((resolve) => probe.close(resolve));
  const dir = mkdtempSync(join(tmpdir(), 'resilient-openai-bench-redis-'));
  const args = ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, '--loglevel', 'warning'];
  const child = spawn(process.env.REDIS_SERVER ?? 'redis-server', args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const failed = new Promise((_, reject) =>
    child.once('error', (error) => reject(new Error(`cannot start redis-server (${error.message}): run scripts/install-redis.sh`))),
  );
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await Promise.race([failed, waitForPong(port)]);
  return {
    url: `redis://127.0.0.1:${port}`,
    close: async () => {
      child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function waitForPong(port) {
  const deadline = Date.now() + 5000;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      const done = (value) => (socket.destroy(), resolve(value));
      socket.setTimeout(500, () => done(false));
      socket.once('error', () => done(false));
      socket.once('connect', () => socket.write('PING\r\n'));
      socket.once('data', (data) => done(data.toString().startsWith('+PONG')));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`redis-server on port ${port} did not answer`);
    await sleep(20);
  }
}

async function worker() {
  const { index, redisUrl, origin, namespace } = JSON.parse(process.env.BENCH_WORKER);
  const [{ ResilientOpenAI, createRedisCoordination }, { createClient }] = await Promise.all([
    import('../../dist/index.js'),
    import('redis'),
  ]);
  const redis = createClient({ url: redisUrl });
  redis.on('error', () => {});
  redis.connect().catch(() => {});
  const coordination = createRedisCoordination({ client: redis, namespace, instanceId: `bench-${index}` });
  const client = new ResilientOpenAI({
    apiKey: 'sk-bench',
    baseURL: `${origin}/primary/v1`,
    fallback: { apiKey: 'sk-bench', baseURL: `${origin}/fallback/v1` },
    healthCheck: false,
    coordination,
  }).start(); // follow the cluster from boot, as a pod does
  let lastBreaker;
  client.on('breaker', (e) => (lastBreaker = { ...e, at: wall() }));
  client.on('switched', (e) => process.send({ switched: e.to, at: wall() }));
  const chat = { model: 'bench', messages: [{ role: 'user', content: 'hi' }] };
  const commands = {
    active: () => client.getStatus().coordination.active,
    trip: async () => {
      await client.chat.completions.create(chat, { headers: { 'x-bench-fail': '1' }, maxRetries: 0 }).catch(() => {});
      if (lastBreaker?.endpoint !== 'primary' || lastBreaker.state !== 'open') throw new Error('the trip did not open the breaker');
      return lastBreaker.at;
    },
    recover: async () => {
      for (let i = 0; i < 5; i++) {
        await client.checkPrimary();
        if (lastBreaker?.endpoint === 'primary' && lastBreaker.state === 'closed') return lastBreaker.at;
      }
      throw new Error('the primary did not recover');
    },
    close: async () => {
      await client[Symbol.asyncDispose]();
      redis.destroy();
      setTimeout(() => process.exit(0), 10).unref();
    },
  };
  process.on('message', ({ id, cmd }) => {
    Promise.resolve()
      .then(() => commands[cmd]())
      .then(
        (result) => process.send({ id, result }),
        (error) => process.send({ id, error: String(error) }),
      );
  });
  process.on('disconnect', () => process.exit(0));
  process.send({ ready: true });
}
