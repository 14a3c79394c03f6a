/**
 * What one process alone may have caused stays in that process: its own timeout opens its own
 * breaker and nobody else's. What the server proved (a 502) travels to every process.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { clusterHooks, FLEET_TEST_MS, PATIENCE_MS, recover, waitFor, type Cluster } from './fleet.js';

const API_KEY = 'sk-redis-local-SECRET-0123456789';
const clusters = clusterHooks();
let cluster: Cluster;

beforeAll(async () => {
  // Re-reads only at start: whatever reaches another process comes by pub/sub, in order.
  cluster = await clusters.start({ size: 3, apiKey: API_KEY, syncIntervalMs: 600_000, commandTimeoutMs: 10_000 });
}, FLEET_TEST_MS);

describe('local and shared faults', () => {
  it(
    'a timeout opens only its own process’s breaker; a 502 seen next, elsewhere, reaches every process',
    async () => {
      const { fleet } = cluster;
      const [timedOut, tripper, third] = fleet.workers as [(typeof fleet.workers)[0], (typeof fleet.workers)[0], (typeof fleet.workers)[0]];
      const mark = fleet.events.length;
      await timedOut.request('trip-timeout');
      expect(fleet.events.slice(mark).some((e) => e.worker === timedOut.index && e.event === 'switched' && e.data.to === 'fallback')).toBe(
        true,
      );
      // The 502 is published after anything the first process could have published: pub/sub
      // delivers in order, so once the third process has this change, it would have had that one.
      await tripper.request('trip');
      await waitFor(
        () =>
          fleet.events
            .slice(mark)
            .some((e) => e.worker === third.index && e.event === 'remote' && e.data.instanceId === tripper.instanceId),
        PATIENCE_MS,
        'the third process to apply the 502',
      );
      const remote = fleet.events.slice(mark).filter((e) => e.event === 'remote');
      // Only the 502 travelled, and only the third process applied it: the first one was already
      // open on its own (a change it already has makes no event).
      expect(remote.map((e) => [e.worker, e.data.instanceId])).toEqual([[third.index, tripper.instanceId]]);
    },
    FLEET_TEST_MS,
  );

  it(
    'a long rate-limit wait seen by one process holds the endpoint out in every process, until the same moment',
    async () => {
      const { fleet } = cluster;
      // After the test above every process is on its fallback: the primary recovers first.
      await recover(fleet, fleet.workers[1]!);
      const origin = fleet.workers[2]!;
      const others = fleet.workers.filter((w) => w !== origin);
      const mark = fleet.events.length;
      const { heldUntil } = await origin.request<{ heldUntil: string }>('trip-long-wait');
      expect(Date.parse(heldUntil)).toBeGreaterThan(Date.now() + 60_000);
      await waitFor(
        () =>
          others.every((w) =>
            fleet.events.slice(mark).some((e) => e.worker === w.index && e.event === 'remote' && e.data.instanceId === origin.instanceId),
          ),
        PATIENCE_MS,
        'every other process to apply the hold',
      );
      for (const w of others) {
        const status = await w.request<{ endpoints: { heldFor: string | null; heldUntil: string | null }[] }>('status');
        expect(status.endpoints[0]).toMatchObject({ heldFor: 'rate-limit', heldUntil });
      }
    },
    FLEET_TEST_MS,
  );
});
