/**
 * Shared by the host-library tests (Vercel AI SDK, LangChain.js), which reach the client only
 * through `client['fetch']`: the Node gate, the two failing primaries, what every failover must
 * show on the wire, the faults of a call that fails everywhere, and a fast clock for the hosts'
 * own backoff.
 */
import { expect, vi } from 'vitest';
import type { ResilientOpenAI } from '../../src/index.js';
import type { Recorded } from '../support/clients.js';
import { clientFor, fallbackOn, FALLBACK_KEY, PRIMARY_KEY, record, setup, track, upstream } from '../support/harness.js';
import { refusedURL, type Upstream } from '../support/upstream.js';

/** ai 7, @ai-sdk/openai 4 and @langchain/openai 1 require Node >= 22: on older Node (CI's Node 20 leg) these files are skipped. */
export const BEFORE_NODE_22 = Number(process.versions.node.split('.')[0]) < 22;

/** A client whose primary fails and whose fallback answers; `primary` is absent where nothing listens. */
export interface Failing {
  client: ResilientOpenAI;
  primary: Upstream | undefined;
  fallback: Upstream;
  events: Recorded;
}

export const FAILING_PRIMARIES: { name: string; start: () => Promise<Failing> }[] = [
  {
    name: 'primary answers 502',
    start: async () => {
      const ctx = await setup();
      ctx.primary.setFault({ kind: 'bad-gateway' });
      return ctx;
    },
  },
  {
    name: 'primary refuses connections',
    start: async () => {
      const fallback = await upstream('fallback');
      const retry = { initialDelayMs: 1, maxDelayMs: 5 };
      const client = track(clientFor(await refusedURL(), { fallback: fallbackOn(fallback), retry }));
      return { client, primary: undefined, fallback, events: record(client) };
    },
  },
];

/** The host's fetch option: `fetch` is private in the SDK's types, public at runtime. */
export const fetchOf = (client: ResilientOpenAI): typeof fetch => client['fetch'] as typeof fetch;

/**
 * What a failover of `calls` host calls to `path` (e.g. '/chat/completions') shows: the primary
 * got one request (the 502; none where nothing listens) and its open breaker kept the later calls
 * away; the fallback got exactly one request per call (no retry layer multiplied another); one
 * switch; each upstream saw its own key and never the host's `Bearer unused`.
 */
export function expectFailedOver({ primary, fallback, events }: Failing, path: string, calls = 1): void {
  if (primary) expect(primary.requests.map((r) => r.path)).toEqual([`/v1${path}`]);
  expect(fallback.requests.map((r) => r.path)).toEqual(Array<string>(calls).fill(`/v1${path}`));
  expect(events.switched).toEqual([expect.objectContaining({ from: 'primary', to: 'fallback', reason: 'error' })]);
  expect(events.retry).toEqual([expect.objectContaining({ from: 'primary', endpoint: 'fallback', attempt: 1, delayMs: 0 })]);
  expectEndpointKeys(primary, fallback);
}

/** Each upstream received its endpoint's key, and no header anywhere carried the host's key. */
export function expectEndpointKeys(primary: Upstream | undefined, fallback: Upstream): void {
  const keys = (u: Upstream | undefined) => (u?.requests ?? []).map((r) => r.headers.authorization);
  expect(keys(primary)).toEqual(keys(primary).map(() => `Bearer ${PRIMARY_KEY}`));
  expect(keys(fallback)).toEqual(keys(fallback).map(() => `Bearer ${FALLBACK_KEY}`));
  const headers = [...(primary?.requests ?? []), ...fallback.requests].map((r) => r.headers);
  expect(JSON.stringify(headers)).not.toContain('unused');
}

/**
 * Both endpoints fail, each attempt with its own status, so that the status of the error names
 * the attempt it came from: the primary 502 (fails over), the fallback 503 (fails over), the
 * primary again 500, the third and last attempt of the library's default policy (maxRetries 2).
 */
export function failEverywhere(primary: Upstream, fallback: Upstream): void {
  primary.queue({ kind: 'bad-gateway' });
  primary.setFault({ kind: 'status', status: 500 });
  fallback.setFault({ kind: 'status', status: 503 });
}

/** One call of the library's default policy over {@link failEverywhere}: primary, fallback, primary. */
export const ONE_CALL = { primary: 2, fallback: 1 };

export const counts = (primary: Upstream, fallback: Upstream) => ({ primary: primary.count(), fallback: fallback.count() });

/**
 * Runs `work` on a fake clock moved 100 ms per turn of the real event loop, so that a host's own
 * backoff (seconds: AI SDK 2 s then 4 s, LangChain 1 s doubling, randomized) passes in
 * milliseconds while loopback HTTP goes on as usual. Only setTimeout/clearTimeout are faked:
 * Date stays real, so breakers and deadlines keep real time. A request in flight would need
 * over a thousand turns to reach a timeout: loopback answers within a few.
 */
export async function onFastClock<T>(work: () => Promise<T>): Promise<T> {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
  try {
    let settled = false;
    const running = work().finally(() => (settled = true));
    running.catch(() => undefined); // awaited below; no unhandled rejection meanwhile
    while (!settled) await vi.advanceTimersByTimeAsync(100);
    return await running;
  } finally {
    vi.useRealTimers();
  }
}
