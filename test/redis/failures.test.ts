/**
 * Redis trouble never breaks OpenAI calls. Eight processes call their upstreams without pause
 * while Redis is absent at start, stopped, frozen (SIGSTOP) and restarted empty: every call
 * succeeds, with no unhandled rejection; each process decides alone meanwhile, and they converge
 * again once Redis is back. (That no call waits for a Redis command is shown in-process, in
 * coordination.test.ts, with a Redis that never answers.)
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { clusterHooks, FLEET_TEST_MS, PATIENCE_MS, recover, senderOf, trip, waitFor, type Cluster, type FleetWorker } from './fleet.js';

const SIZE = 8;

const clusters = clusterHooks();
let cluster: Cluster;

beforeAll(async () => {
  // Absent at start: the port is reserved, nothing listens there yet.
  cluster = await clusters.start({ size: SIZE, apiKey: 'sk-redis-failures-SECRET-0123456789', redis: false });
  await cluster.fleet.all('load', 25);
}, FLEET_TEST_MS);

const active = async () => (await cluster.statuses()).map((s) => s.coordination.active as boolean);
const endpoints = async () => (await cluster.statuses()).map((s) => s.activeEndpoint as string);

/** Waits for `check` and says how long it took (for the log). */
async function until(check: () => Promise<boolean>, what: string): Promise<number> {
  const started = Date.now();
  await waitFor(check, PATIENCE_MS, what, 20);
  return Date.now() - started;
}

/**
 * The background calls since the last look: none failed, and every worker got some through
 * (waiting for the slowest). The longest call is logged, not asserted.
 */
async function expectCallsUnharmed(label: string): Promise<void> {
  const ok = Array<number>(SIZE).fill(0);
  let maxMs = 0;
  await waitFor(
    async () => {
      const stats = await Promise.all(cluster.fleet.workers.map((w) => w.stats()));
      stats.forEach((s, i) => {
        expect(s.errors).toEqual([]);
        expect(s.failed).toBe(0);
        ok[i]! += s.ok;
        maxMs = Math.max(maxMs, s.maxMs);
      });
      return ok.every((n) => n > 0);
    },
    PATIENCE_MS,
    'a call by every worker',
    50,
  );
  console.log(`[redis failures] ${label}: ${ok.reduce((a, b) => a + b)} calls, all succeeded; longest ${Math.round(maxMs)} ms`);
}

/**
 * With Redis away, a trip stays in the process that saw it: after it, the tripper's calls go to
 * the fallback and every other worker's calls still to the primary (seen by the upstreams).
 */
async function expectLocalOnly(tripper: FleetWorker): Promise<void> {
  const { primary, fallback } = cluster;
  expect(await active()).toEqual(Array(SIZE).fill(false));
  await tripper.request('trip');
  const [primaryMark, fallbackMark] = [primary.requests.length, fallback.requests.length];
  const callers = (requests: typeof primary.requests, mark: number) =>
    new Set(
      requests
        .slice(mark)
        .filter((r) => r.path.endsWith('/chat/completions'))
        .map(senderOf),
    );
  const others = cluster.fleet.workers.filter((w) => w !== tripper).map((w) => w.index);
  await waitFor(
    () => callers(fallback.requests, fallbackMark).has(tripper.index) && others.every((i) => callers(primary.requests, primaryMark).has(i)),
    PATIENCE_MS,
    'a call by the tripper to the fallback, and by every other worker to the primary',
  );
  // (The tripper's own call to the primary may still be on its way from before the trip; the
  // other workers' breakers never opened, so none of theirs can go to the fallback.)
  expect([...callers(fallback.requests, fallbackMark)]).toEqual([tripper.index]);
  const where = await endpoints();
  expect(where[tripper.index]).toBe('fallback');
  expect(where.filter((e) => e === 'primary')).toHaveLength(SIZE - 1);
}

/** Once Redis is back, every process follows the tripper's change (which was never shared). */
async function expectConvergence(tripper: FleetWorker, label: string): Promise<void> {
  const back = await until(async () => (await active()).every(Boolean), 'every worker to see Redis again');
  const converged = await until(async () => (await endpoints()).every((e) => e === 'fallback'), 'every worker to use the fallback');
  console.log(`[redis failures] ${label}: Redis seen again after ${back} ms, converged ${converged} ms later`);
  // And the cluster works as before: a recovery reaches everyone.
  await recover(cluster.fleet, tripper);
  expect(await endpoints()).toEqual(Array(SIZE).fill('primary'));
}

/** Redis goes away (`away`), a trip stays local, Redis comes back (`back`), and the cluster converges. */
async function localThenConverged(tripper: FleetWorker, label: string, back: () => Promise<void> | void): Promise<void> {
  await expectLocalOnly(tripper);
  await expectCallsUnharmed(`${label}, while away`);
  await back();
  await expectConvergence(tripper, label);
  await expectCallsUnharmed(`${label}, once back`);
}

describe('Redis trouble across 8 processes', () => {
  it(
    'works without Redis at start, and converges once it starts',
    async () => {
      await expectCallsUnharmed('absent at start');
      await localThenConverged(cluster.fleet.workers[0]!, 'absent at start', () => cluster.server.start());
    },
    FLEET_TEST_MS,
  );

  it(
    'keeps calls working while Redis is stopped, and converges when it is back',
    async () => {
      await cluster.server.stop();
      await until(async () => (await active()).every((a) => !a), 'every worker to notice');
      await localThenConverged(cluster.fleet.workers[1]!, 'stopped', () => cluster.server.start());
    },
    FLEET_TEST_MS,
  );

  it(
    'keeps calls working while Redis is frozen (SIGSTOP), and converges when it thaws',
    async () => {
      cluster.server.freeze();
      let thawed = false;
      const thaw = () => {
        if (!thawed) cluster.server.thaw();
        thawed = true;
      };
      try {
        const noticed = await until(async () => (await active()).every((a) => !a), 'every worker to notice');
        console.log(`[redis failures] frozen: every worker noticed after ${noticed} ms`);
        // The lease question gets an answer, "probe locally", although Redis never answers: the
        // library's own timeout bounds it.
        expect(await cluster.fleet.workers[5]!.request('shouldProbe')).toBe(true);
        await localThenConverged(cluster.fleet.workers[2]!, 'frozen', thaw);
      } finally {
        thaw();
      }
    },
    FLEET_TEST_MS,
  );

  it(
    'recovers from a restart that empties Redis',
    async () => {
      const { fleet, server } = cluster;
      // Shared state before the restart: the primary is open everywhere.
      await trip(fleet, fleet.workers[3]!);
      await server.restart();
      const admin = await cluster.admin();
      expect(await admin.keys(`{${fleet.namespace}}:endpoint:*`)).toEqual([]);
      // Nothing survived in Redis; the processes reconnect (subscribers too) and still agree.
      const back = await until(async () => (await active()).every(Boolean), 'every worker to see Redis again');
      console.log(`[redis failures] restarted empty: Redis seen again after ${back} ms`);
      expect(await endpoints()).toEqual(Array(SIZE).fill('fallback'));
      // Changes after the restart are ordered after those before it (the epoch is the server's
      // clock): each one reaches every other worker, none is taken for an old one.
      await recover(fleet, fleet.workers[4]!);
      await trip(fleet, fleet.workers[6]!);
      await recover(fleet, fleet.workers[7]!);
      expect(await admin.keys(`{${fleet.namespace}}:endpoint:*`)).toHaveLength(1);
      await expectCallsUnharmed('restarted empty');
    },
    FLEET_TEST_MS,
  );
});
