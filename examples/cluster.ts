/**
 * Several processes, one view of the upstream: node:cluster runs WORKERS copies of the Express
 * example app (examples/express-status-routes.ts) on one port, and they share breaker state and
 * the health probe through Redis. When one process sees the primary fail, all of them switch;
 * one process probes the primary, and when it recovers all of them switch back.
 *
 *   REDIS_URL=redis://127.0.0.1:6379 WORKERS=4 tsx examples/cluster.ts
 *
 * Reads OPENAI_BASE_URL_PRO, OPENAI_API_KEY_PRO and OPENAI_API_KEY like the Express example.
 * `GET /api/status?detail=full` shows `coordination` (active, instanceId, probeLeaseHolder).
 * Redis is optional at run time: without it each process decides alone, and they converge once
 * it is reachable. In your app import from 'resilient-openai' instead of '../src/index.js'.
 */
import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import { createClient } from 'redis';
import { ResilientOpenAI, createRedisCoordination } from '../src/index.js';
import { createApp, liveFeedOf } from './express-status-routes.js';

const workers = Number(process.env.WORKERS ?? Math.min(4, availableParallelism()));

if (cluster.isPrimary) {
  for (let i = 0; i < workers; i++) cluster.fork();
  cluster.on('exit', (worker, code) => console.log(`worker ${worker.process.pid} exited (${code})`));
} else {
  // The app's own Redis client. Connecting happens in the background: calls work before (and
  // without) Redis. node-redis needs an 'error' listener, or a lost connection crashes the process.
  const redis = createClient({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
  redis.on('error', () => {});
  redis.connect().catch(() => {});

  const client = new ResilientOpenAI({
    coordination: createRedisCoordination({ client: redis, namespace: 'cluster-example', instanceId: `pid-${process.pid}` }),
    healthCheck: { intervalMs: 30_000 },
  }).start(); // follow the cluster from boot, not from the first call
  client.on('remote', ({ endpoint, state, instanceId }) => console.log(`[${process.pid}] ${endpoint} ${state} (seen by ${instanceId})`));

  const app = createApp(client, { checkToken: process.env.STATUS_CHECK_TOKEN || undefined });
  const server = app.listen(Number(process.env.PORT ?? 3000), () => console.log(`[${process.pid}] listening`));

  process.once('SIGTERM', () => {
    liveFeedOf(app).close();
    server.close();
    // Gives up the probe lease, if this process holds it, before closing the app's Redis client.
    void client[Symbol.asyncDispose]().then(() => redis.close());
  });
}
