// 2. Failover cost: a call whose primary answers 502, against a call to a healthy endpoint; and the
// same outage handled by the plain SDK (retries the 502 twice with backoff, then fails) and by the
// seed's hand-written approach (two SDK clients, retry the primary with backoff, then switch).
import { load, now, startUpstream, summarize } from './lib.mjs';

const chat = { model: 'bench', messages: [{ role: 'user', content: 'hi' }] };
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** What apps write by hand today (see the seed): up to 3 attempts with backoff, then the fallback. */
async function seedStyle(primaryClient, fallbackClient) {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await primaryClient.chat.completions.create(chat);
    } catch (error) {
      if (error?.status !== 502 && attempt === 2) throw error;
      if (attempt < 2) await sleep(1000 * 2 ** attempt);
    }
  }
  return fallbackClient.chat.completions.create(chat);
}

async function timeEach(fn, times) {
  const ms = [];
  for (let i = 0; i < times; i++) {
    const t = now();
    await fn().catch(() => {});
    ms.push(now() - t);
  }
  return ms.sort((a, b) => a - b)[Math.floor(ms.length / 2)];
}

/** `samples`: how many times the slow comparisons (seconds each: the plain SDK's and the seed's backoff) run. */
export async function failoverCost({ OpenAI, ResilientOpenAI, samples = 3 }) {
  const primary = await startUpstream('primary');
  const fallback = await startUpstream('fallback');
  const options = { apiKey: 'sk-bench', baseURL: primary.url, fallback: { apiKey: 'sk-bench', baseURL: fallback.url }, healthCheck: false };
  // A breaker that never opens: every call meets the 502 and fails over, which is what we time.
  const resilient = new ResilientOpenAI({ ...options, breaker: { failureThreshold: 1000, minimumCalls: 1_000_000 } });
  const healthy = await load(() => resilient.chat.completions.create(chat), { total: 300, concurrency: 1 });
  const healthyP50 = summarize(healthy.latencies, healthy.wallMs).p50;
  primary.mode('502');
  await load(() => resilient.chat.completions.create(chat), { total: 50, concurrency: 1 });
  const failing = await load(() => resilient.chat.completions.create(chat), { total: 300, concurrency: 1 });
  const failoverP50 = summarize(failing.latencies, failing.wallMs).p50;

  const plain = new OpenAI({ apiKey: 'sk-bench', baseURL: primary.url });
  const plainFailMs = await timeEach(() => plain.chat.completions.create(chat), samples);
  const seedFallback = new OpenAI({ apiKey: 'sk-bench', baseURL: fallback.url });
  const seedMs = await timeEach(() => seedStyle(plain, seedFallback), Math.max(1, samples - 1));
  await Promise.all([primary.close(), fallback.close()]);
  return { healthyP50, failoverP50, plainFailMs, seedMs };
}
