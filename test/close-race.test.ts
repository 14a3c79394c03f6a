import { setImmediate as macrotask } from 'node:timers/promises';
import type { OpenAI } from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { LocalChange } from '../src/index.js';
import { clientFor, fallbackOn, localCoordination, nextEvent, record, track, upstream } from './support/harness.js';

afterEach(() => {
  vi.useRealTimers();
});

/**
 * A client whose health timer runs on fake time, over a primary that fails its probe (so a probe
 * would emit `healthcheck`, `breaker` and `switched`, and publish). The coordination's
 * `shouldProbe()` answers only when the test says so.
 */
async function tickAwaitingCoordination(timeoutMs = 5000) {
  const primary = await upstream('primary');
  const fallback = await upstream('fallback');
  primary.setFault({ kind: 'status', status: 503 });
  vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
  let answer!: (probe: boolean) => void;
  const answered = new Promise<boolean>((resolve) => (answer = resolve));
  let asked = 0;
  let probes = 0;
  let settled = 0;
  const published: LocalChange[] = [];
  const coordination = localCoordination({
    shouldProbe: () => {
      asked++;
      return answered;
    },
    publish: (change) => published.push(change),
  });
  const healthCheck = {
    intervalMs: 1000,
    timeoutMs,
    probe: async (client: OpenAI, signal: AbortSignal) => {
      probes++;
      try {
        await client.models.list({ maxRetries: 0, signal });
      } finally {
        settled++;
      }
    },
  };
  const client = track(clientFor(primary, { fallback: fallbackOn(fallback), healthCheck, coordination })).start();
  const events = record(client);
  vi.advanceTimersByTime(1000);
  expect(asked).toBe(1); // the tick now awaits shouldProbe()
  /** Lets the coordination answer `true`, then waits until the tick has acted on it (a macrotask later). */
  const answerYes = async () => {
    answer(true);
    await answered;
    await macrotask();
  };
  return { client, primary, fallback, events, published, answerYes, probes: () => probes, settled: () => settled };
}

describe('close() while a timer tick awaits the coordination', () => {
  it('the tick does nothing afterwards: no probe, no request, no event, no switch, no publish', async () => {
    const race = await tickAwaitingCoordination();
    race.client.close();
    await race.answerYes();
    expect(race.probes()).toBe(0);
    expect(race.primary.count()).toBe(0);
    expect(race.events).toEqual({ switched: [], recovered: [], retry: [], healthcheck: [], breaker: [] });
    expect(race.published).toEqual([]);
    expect(race.client.activeEndpoint).toBe('primary');
    expect(race.client.getStatus().lastCheckedAt).toBeNull();
  });

  it('control: the same tick on a client left open probes by then, and reports, switches and publishes', async () => {
    const race = await tickAwaitingCoordination();
    const checked = nextEvent(race.client, 'healthcheck');
    await race.answerYes();
    expect(race.probes()).toBe(1); // the same wait is long enough to see the probe start
    expect(await checked).toMatchObject({ endpoint: 'primary', ok: false });
    expect(race.primary.count('/models')).toBe(1);
    expect(race.events.breaker).toMatchObject([{ endpoint: 'primary', previous: 'closed', state: 'open' }]);
    expect(race.events.switched).toMatchObject([{ from: 'primary', to: 'fallback', reason: 'healthcheck' }]);
    expect(race.published).toEqual([{ endpoint: 'primary', state: 'open' }]);
  });
});

describe('close() while a timer probe is in flight', () => {
  it('drops its result: no event, no switch, no publish', async () => {
    const race = await tickAwaitingCoordination();
    race.primary.setFault({ kind: 'hang' });
    await race.answerYes();
    await race.primary.received(1, '/models'); // the probe is in flight
    race.client.close();
    await vi.waitFor(() => expect(race.settled()).toBe(1)); // close() aborted it
    await macrotask();
    expect(race.events).toEqual({ switched: [], recovered: [], retry: [], healthcheck: [], breaker: [] });
    expect(race.published).toEqual([]);
    expect(race.client.activeEndpoint).toBe('primary');
  });

  it('control: the same probe on a client left open times out, reports and switches (a timeout of its own is not published)', async () => {
    const race = await tickAwaitingCoordination(100);
    race.primary.setFault({ kind: 'hang' });
    const checked = nextEvent(race.client, 'healthcheck');
    await race.answerYes();
    await race.primary.received(1, '/models');
    expect(await checked).toMatchObject({ endpoint: 'primary', ok: false, error: expect.objectContaining({ name: 'ProbeTimeoutError' }) });
    expect(race.events.switched).toMatchObject([{ from: 'primary', to: 'fallback', reason: 'healthcheck' }]);
    // This process's own probe timeout stays local (README "Running many instances"); the tick
    // control above shows a probe failure the server proved being published.
    expect(race.published).toEqual([]);
  });
});
