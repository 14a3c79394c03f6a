// 1. Overhead: ResilientOpenAI vs a plain OpenAI against the same healthy upstream, measured in
// alternating rounds so that drift on a shared machine hits both sides alike.
import { load, median, startUpstream, summarize } from './lib.mjs';

const chat = { model: 'bench', messages: [{ role: 'user', content: 'hi' }] };

const CASES = [
  { name: 'JSON chat completion, sequential', stream: false, total: 2000, concurrency: 1 },
  { name: 'JSON chat completion, 64 concurrent', stream: false, total: 24000, concurrency: 64 },
  { name: 'SSE stream of 200 chunks, sequential', stream: true, total: 1200, concurrency: 1 },
  { name: 'SSE stream of 200 chunks, 64 concurrent', stream: true, total: 4800, concurrency: 64 },
];

function caller(client, stream) {
  if (!stream) return () => client.chat.completions.create(chat);
  return async () => {
    let chunks = 0;
    for await (const _ of await client.chat.completions.create({ ...chat, stream: true })) chunks++;
    if (chunks !== 200) throw new Error(`expected 200 chunks, got ${chunks}`);
  };
}

export async function overhead({ OpenAI, ResilientOpenAI, rounds = 5, scale = 1 }) {
  const primary = await startUpstream('primary');
  const fallback = await startUpstream('fallback');
  const plain = new OpenAI({ apiKey: 'sk-bench', baseURL: primary.url });
  const resilient = new ResilientOpenAI({
    apiKey: 'sk-bench',
    baseURL: primary.url,
    fallback: { apiKey: 'sk-bench', baseURL: fallback.url },
    healthCheck: false,
  });
  const results = [];
  for (const c of CASES) {
    const sides = { plain: caller(plain, c.stream), resilient: caller(resilient, c.stream) };
    const per = Math.max(50, Math.round((c.total * scale) / rounds));
    // Warm-up: connections, JIT.
    for (const call of Object.values(sides)) await load(call, { total: Math.min(per, 500), concurrency: c.concurrency });
    const pooled = { plain: [], resilient: [] };
    const ratios = [];
    const p50Deltas = [];
    const rps = { plain: [], resilient: [] };
    for (let r = 0; r < rounds; r++) {
      const order = r % 2 ? ['resilient', 'plain'] : ['plain', 'resilient'];
      const round = {};
      for (const side of order) {
        const { latencies, wallMs } = await load(sides[side], { total: per, concurrency: c.concurrency });
        pooled[side].push(...latencies);
        round[side] = summarize(latencies, wallMs);
        rps[side].push(round[side].rps);
      }
      ratios.push(round.resilient.rps / round.plain.rps);
      p50Deltas.push((round.resilient.p50 - round.plain.p50) * 1000);
    }
    const p = summarize(pooled.plain, 1);
    const q = summarize(pooled.resilient, 1);
    results.push({
      case: c.name,
      plain: { rps: median(rps.plain), p50Ms: p.p50, p99Ms: p.p99 },
      resilient: { rps: median(rps.resilient), p50Ms: q.p50, p99Ms: q.p99 },
      throughputRatio: median(ratios),
      addedP50Us: median(p50Deltas),
      rounds,
    });
  }
  await Promise.all([primary.close(), fallback.close()]);
  return results;
}
