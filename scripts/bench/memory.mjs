// 5. Memory: heap over 100,000 calls, 10,000 of which fail over (the primary answers 502 to every
// tenth request), sampled every 10,000 calls after a 10,000-call warm-up. Also listener and timer
// counts; heap per idle client and per call in flight (memory-clients.mjs); with `million`, heap
// over 1,000,000 calls with an in-memory fetch (memory-flat.mjs, about two minutes).
import { load, startUpstream } from './lib.mjs';
import { clientMemory } from './memory-clients.mjs';
import { flatMemory } from './memory-flat.mjs';

const chat = { model: 'bench', messages: [{ role: 'user', content: 'hi' }] };

function heapMB() {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}
const handles = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

export async function memory({ OpenAI, ResilientOpenAI, total = 100_000, clients = 1000, inFlight = 1000, million = false }) {
  const primary = await startUpstream('primary');
  const fallback = await startUpstream('fallback');
  primary.every502(10);
  // A breaker that closes again at once, so that every tenth call really fails over.
  const client = new ResilientOpenAI({
    apiKey: 'sk-bench',
    baseURL: primary.url,
    fallback: { apiKey: 'sk-bench', baseURL: fallback.url },
    healthCheck: { intervalMs: 1000 },
    breaker: { cooldownMs: 0, successThreshold: 1, halfOpenMaxCalls: 1000 },
  });
  let failovers = 0;
  client.on('retry', () => failovers++);
  const listeners = () => ['switched', 'retry', 'recovered', 'healthcheck', 'breaker'].reduce((n, e) => n + client.listenerCount(e), 0);
  // Heap after forced GC wobbles by a few MB between samples; compare averages of three checkpoints
  // at the start and at the end of the run instead of two single samples.
  const warmup = total / 10;
  const step = (total - warmup) / 9;
  await load(() => client.chat.completions.create(chat), { total: warmup, concurrency: 50 });
  const checkpoints = [heapMB()];
  const before = { listeners: listeners(), timers: handles() };
  for (let i = 0; i < 9; i++) {
    await load(() => client.chat.completions.create(chat), { total: step, concurrency: 50 });
    checkpoints.push(heapMB());
  }
  const after = { listeners: listeners(), timers: handles() };
  const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;
  before.heap = mean(checkpoints.slice(0, 3));
  after.heap = mean(checkpoints.slice(-3));
  client.close();
  await Promise.all([primary.close(), fallback.close()]);
  return {
    ...(await clientMemory({ OpenAI, ResilientOpenAI, clients, inFlight })),
    ...(million && { million: await flatMemory({ ResilientOpenAI }) }),
    calls: total,
    failovers,
    gcExposed: typeof globalThis.gc === 'function',
    checkpointsMB: checkpoints,
    before,
    after,
    heapRatio: after.heap / before.heap,
  };
}
