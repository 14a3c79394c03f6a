// 1. Overhead: ResilientOpenAI vs a plain OpenAI against the same healthy upstream (in its own
// process, on its own core when pinned), in short alternating rounds so that drift on a shared
// machine hits both sides alike. The sequential cases also run a second plain client in the same
// rounds (the A/A control), which says how wide the noise is.
import { load, median, startUpstream, summarize } from './lib.mjs';
import { alternate, noise, paired, spread } from './rounds.mjs';

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

export async function overhead({ OpenAI, ResilientOpenAI, rounds = 30, scale = 1 }) {
  const primary = await startUpstream('primary');
  const fallback = await startUpstream('fallback');
  const plain = new OpenAI({ apiKey: 'sk-bench', baseURL: primary.url });
  const plainAgain = new OpenAI({ apiKey: 'sk-bench', baseURL: primary.url });
  const resilient = new ResilientOpenAI({
    apiKey: 'sk-bench',
    baseURL: primary.url,
    fallback: { apiKey: 'sk-bench', baseURL: fallback.url },
    healthCheck: false,
  });
  const results = [];
  for (const c of CASES) {
    // The A/A control where it is cheap: the sequential cases, which are also the goals' cases.
    const sequential = c.concurrency === 1;
    const sides = { plain: caller(plain, c.stream), resilient: caller(resilient, c.stream) };
    if (sequential) sides.plainAgain = caller(plainAgain, c.stream);
    // Concurrent rounds stay longer (a third as many): 64 workers ramping up and down at the edges
    // of each round must remain a small part of it.
    const caseRounds = sequential ? rounds : Math.max(2, Math.round(rounds / 3));
    const per = Math.max(50, Math.round((c.total * scale) / caseRounds));
    // Warm-up: connections, JIT. Sequential rounds are short: a few rounds' worth, or the first
    // rounds still run warming up, against whichever side runs first in them.
    const warm = sequential ? per * 4 : Math.min(per, 500);
    for (const call of Object.values(sides)) await load(call, { total: warm, concurrency: c.concurrency });
    const byRound = await alternate(Object.keys(sides), caseRounds, async (side) => {
      const { latencies, wallMs } = await load(sides[side], { total: per, concurrency: c.concurrency });
      return { latencies, ...summarize(latencies, wallMs) };
    });
    const rps = (side) => byRound[side].map((x) => x.rps);
    const pooled = (side) =>
      summarize(
        byRound[side].flatMap((x) => x.latencies),
        1,
      );
    const p = pooled('plain');
    const q = pooled('resilient');
    const ratios = spread(paired(rps('resilient'), rps('plain'), (r, b) => r / b));
    const aa = sequential ? spread(paired(rps('plainAgain'), rps('plain'), (r, b) => r / b)) : undefined;
    results.push({
      case: c.name,
      plain: { rps: median(rps('plain')), p50Ms: p.p50, p99Ms: p.p99 },
      resilient: { rps: median(rps('resilient')), p50Ms: q.p50, p99Ms: q.p99 },
      throughputRatio: ratios.median,
      ratioSpread: ratios,
      addedP50Us: median(paired(byRound.resilient, byRound.plain, (r, b) => (r.p50 - b.p50) * 1000)),
      rounds: caseRounds,
      callsPerRound: per,
      ...(aa && { aa, ...noise(ratios, aa, 1) }),
    });
  }
  resilient.close();
  await Promise.all([primary.close(), fallback.close()]);
  return results;
}
