// 5. Memory, flat over a million calls: an in-memory `fetch` (no sockets, so a million calls take
// a minute or two rather than ten), every hundredth request to the primary answered 502 (that call
// fails over: 10,000 failovers), every twentieth call a short stream; heap after forced GC sampled
// every 100,000 calls after a 50,000-call warm-up. The 100,000-call run above fails over ten times
// as often; this one is about the common path, long. A leak of one byte per call would show as
// 1 MB over the run, against samples that wobble by a fraction of that.

import { COMPLETION, event } from './wire.mjs';

const completion = JSON.stringify(COMPLETION);
const SSE = event({ role: 'assistant', content: '' }) + event({ content: 'hi' }) + event({}, 'stop') + 'data: [DONE]\n\n';
const BAD_GATEWAY = '<html><body><h1>502 Bad Gateway</h1></body></html>';

const answer = (init) =>
  String(init?.body).includes('"stream":true') ?
    new Response(SSE, { status: 200, headers: { 'content-type': 'text/event-stream' } })
  : new Response(completion, { status: 200, headers: { 'content-type': 'application/json' } });

function heapMB() {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

export async function flatMemory({ ResilientOpenAI, total = 1_000_000, every = 100_000 }) {
  let primaryRequests = 0;
  const primaryFetch = (_url, init) =>
    Promise.resolve(
      ++primaryRequests % 100 === 0 ? new Response(BAD_GATEWAY, { status: 502, headers: { 'content-type': 'text/html' } }) : answer(init),
    );
  const fallbackFetch = (_url, init) => Promise.resolve(answer(init));
  // As in the 100,000-call run: a breaker that closes again at once, so every 502 fails over.
  const client = new ResilientOpenAI({
    apiKey: 'sk-bench',
    baseURL: 'http://primary.invalid/v1',
    fetch: primaryFetch,
    fallback: { apiKey: 'sk-bench', baseURL: 'http://fallback.invalid/v1', fetch: fallbackFetch },
    healthCheck: false,
    breaker: { cooldownMs: 0, successThreshold: 1, halfOpenMaxCalls: 1000 },
  });
  let failovers = 0;
  client.on('retry', () => failovers++);
  let n = 0;
  const call = async () => {
    if (++n % 20 !== 0) return client.chat.completions.create({ model: 'bench', messages: [] });
    for await (const _ of await client.chat.completions.create({ model: 'bench', messages: [], stream: true }));
  };
  // Ten at a time, and no per-call bookkeeping (load() keeps every latency: megabytes of its own).
  const run = async (calls) => {
    let started = 0;
    const worker = async () => {
      while (started++ < calls) await call();
    };
    await Promise.all(Array.from({ length: 10 }, worker));
  };
  const t = performance.now();
  await run(every / 2);
  const checkpointsMB = [heapMB()];
  const timersBefore = timers();
  for (let done = 0; done < total; done += every) {
    await run(every);
    checkpointsMB.push(heapMB());
  }
  const seconds = (performance.now() - t) / 1000;
  client.close();
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const first = mean(checkpointsMB.slice(0, 3));
  const last = mean(checkpointsMB.slice(-3));
  return {
    calls: total,
    failovers,
    checkpointsMB,
    firstMB: first,
    lastMB: last,
    heapRatio: last / first,
    // Growth per call from the first checkpoint to the last (negative: the heap shrank).
    bytesPerCall: ((checkpointsMB.at(-1) - checkpointsMB[0]) * 1024 * 1024) / total,
    timers: { before: timersBefore, after: timers() },
    seconds,
  };
}
