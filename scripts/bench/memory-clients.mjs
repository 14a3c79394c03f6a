// 5. Memory, what a client and a call hold: heap per idle client (N clients constructed and kept),
// and heap per call in flight (K calls held by an upstream that answers only when told), for the
// plain SDK and for ResilientOpenAI side by side. The difference between the two is ours.
import { sleep, startUpstream } from './lib.mjs';

const chat = { model: 'bench', messages: [{ role: 'user', content: 'hi' }] };

function heapBytes() {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;

/** Bytes per client over `n` clients kept alive, and the timers they started (none while idle). */
function perIdleClient(make, n) {
  for (let i = 0; i < 10; i++) make().close?.(); // Warm-up: lazily built module state is not per client.
  const timersBefore = timers();
  const kept = [];
  const before = heapBytes();
  for (let i = 0; i < n; i++) kept.push(make());
  const bytes = (heapBytes() - before) / n;
  const started = timers() - timersBefore;
  for (const client of kept) client.close?.();
  return { bytes, timers: started };
}

async function until(condition, what) {
  for (const t = performance.now(); !(await condition()); await sleep(10))
    if (performance.now() - t > 60_000) throw new Error(`bench: timed out waiting for ${what}`);
}

/**
 * Bytes per call in flight: `k` calls started and held by a fresh upstream of their own (so each
 * side opens its k connections inside its own measurement), counted once the upstream holds all
 * of them; then released. `afterBytes`: what is left per call once all are answered (mostly the
 * connections, which stay pooled).
 */
async function perInFlight(make, k) {
  const upstream = await startUpstream('hold');
  const client = make(upstream.url);
  await client.chat.completions.create(chat); // Warm-up: one connection, JIT, lazy state.
  upstream.mode('hold');
  await upstream.stats(); // IPC is ordered: once this answers, 'hold' is in effect.
  const before = heapBytes();
  const calls = Array.from({ length: k }, () => client.chat.completions.create(chat));
  await until(async () => (await upstream.stats()).held >= k, `${k} held calls`);
  const held = heapBytes();
  upstream.release();
  await Promise.all(calls);
  const after = heapBytes();
  client.close?.();
  await upstream.close();
  return { bytes: (held - before) / k, afterBytes: (after - before) / k };
}

export async function clientMemory({ OpenAI, ResilientOpenAI, clients = 1000, inFlight = 1000 }) {
  const fallback = await startUpstream('fallback');
  const options = (baseURL) => ({ apiKey: 'sk-bench', baseURL });
  const plain = (baseURL) => new OpenAI(options(baseURL));
  // Idle: default options but a fallback (the health timer starts with the first request, not here).
  const ours = (baseURL, more) => new ResilientOpenAI({ ...options(baseURL), fallback: options(fallback.url), ...more });
  const idle = {
    clients,
    plain: perIdleClient(() => plain('http://127.0.0.1:9/v1'), clients),
    resilient: perIdleClient(() => ours('http://127.0.0.1:9/v1'), clients),
  };
  // In flight: no health probes, which the holding upstream would hold (and count) too.
  const held = {
    calls: inFlight,
    plain: await perInFlight(plain, inFlight),
    resilient: await perInFlight((url) => ours(url, { healthCheck: false }), inFlight),
  };
  await fallback.close();
  return { idle, inFlight: held };
}
