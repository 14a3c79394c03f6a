// 3. Outage under load: 2,000 calls at 200 concurrent while the primary starts answering 502
// mid-run and later recovers. Upstreams answer after 100 ms, as a model would (faster than most).
import { load, sleep, startUpstream, summarize } from './lib.mjs';

const chat = { model: 'bench', messages: [{ role: 'user', content: 'hi' }] };

export async function outage({ ResilientOpenAI }) {
  const primary = await startUpstream('primary');
  const fallback = await startUpstream('fallback');
  primary.delay(100);
  fallback.delay(100);
  const client = new ResilientOpenAI({
    apiKey: 'sk-bench',
    baseURL: primary.url,
    fallback: { apiKey: 'sk-bench', baseURL: fallback.url },
    healthCheck: { intervalMs: 100, timeoutMs: 2000 },
  });
  const events = { switched: 0, recovered: 0, switches: [] };
  let inFlight = 0;
  let inFlightAtSwitch = -1;
  client.on('switched', (e) => {
    events.switched++;
    events.switches.push(`${e.from}→${e.to} (${e.reason})`);
    if (inFlightAtSwitch < 0) inFlightAtSwitch = inFlight;
  });
  client.on('recovered', () => events.recovered++);
  let ok = 0;
  let failed = 0;
  const run = load(
    async () => {
      inFlight++;
      try {
        await client.chat.completions.create(chat);
        ok++;
      } catch {
        failed++;
      } finally {
        inFlight--;
      }
    },
    { total: 2000, concurrency: 200 },
  );
  // Roughly a third of the run up, a third down, a third up again.
  await sleep(300);
  primary.reset();
  primary.mode('502');
  await sleep(350);
  const duringOutage = await primary.stats();
  primary.mode('ok');
  const { latencies, wallMs } = await run;
  // Events of the run only: a probe still in flight when the upstreams stop would add one.
  const seen = { switched: events.switched, recovered: events.recovered, switches: [...events.switches] };
  client.close();
  await Promise.all([primary.close(), fallback.close()]);
  const s = summarize(latencies, wallMs);
  return {
    calls: latencies.length,
    successRate: ok / (ok + failed),
    p99Ms: s.p99,
    requestsToDeadPrimary: duringOutage.receivedWhileDown,
    inFlightAtSwitch,
    switched: seen.switched,
    recovered: seen.recovered,
    switches: seen.switches,
  };
}
