// 5. Memory: heap after 100,000 calls, 10,000 of which fail over (the primary answers 502 to every
// tenth request), compared with the heap after a 10,000-call warm-up. Also listener and timer counts.
import { load, startUpstream } from './lib.mjs';

const chat = { model: 'bench', messages: [{ role: 'user', content: 'hi' }] };

function heapMB() {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed / 1024 / 1024;
}
const handles = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

export async function memory({ ResilientOpenAI, total = 100_000 }) {
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
  const warmup = total / 10;
  await load(() => client.chat.completions.create(chat), { total: warmup, concurrency: 50 });
  const before = { heap: heapMB(), listeners: listeners(), timers: handles() };
  await load(() => client.chat.completions.create(chat), { total: total - warmup, concurrency: 50 });
  const after = { heap: heapMB(), listeners: listeners(), timers: handles() };
  client.close();
  await Promise.all([primary.close(), fallback.close()]);
  return { calls: total, failovers, gcExposed: typeof globalThis.gc === 'function', before, after, heapRatio: after.heap / before.heap };
}
