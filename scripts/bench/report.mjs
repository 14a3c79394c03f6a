// Turns the benchmark results into one markdown table: figure, comparison, ratio, goal, met.
import { fmt } from './lib.mjs';

const ms = (n) => `${fmt(n, n < 10 ? 2 : 0)} ms`;
const us = (n) => `${fmt(n, 1)} µs`;
const yes = (ok) => (ok ? '✅' : '❌ missed');

export function render(r) {
  const rows = [];
  const add = (measure, ours, comparison, ratio, goal, met) =>
    rows.push(`| ${measure} | ${ours} | ${comparison} | ${ratio} | ${goal} | ${met} |`);
  for (const c of r.overhead) {
    add(
      `1. ${c.case}: throughput`,
      `${fmt(c.resilient.rps)} req/s`,
      `plain OpenAI ${fmt(c.plain.rps)} req/s`,
      fmt(c.throughputRatio, 3),
      '≥ 0.97',
      yes(c.throughputRatio >= 0.97),
    );
    add(
      `1. ${c.case}: p50 / p99`,
      `${ms(c.resilient.p50Ms)} / ${ms(c.resilient.p99Ms)}`,
      `${ms(c.plain.p50Ms)} / ${ms(c.plain.p99Ms)}`,
      `+${fmt(c.addedP50Us, 0)} µs p50`,
      'p50 + < 50 µs',
      yes(c.addedP50Us < 50),
    );
  }
  for (const [kind, label, goal, met] of [
    ['json', 'JSON call', '< 50 µs added', (c) => c.addedUs < 50],
    ['sse', 'SSE stream of 200 events in one read', '≤ +15 µs (frame reader)', (c) => c.addedUs <= 15],
    ['sseChunked', 'SSE stream of 200 events, one read each', '≤ +1 %', (c) => c.addedUs <= c.plainUs * 0.01],
  ]) {
    const c = r.cpu[kind];
    if (!c) continue;
    add(
      `1b. Client CPU per ${label} (in-memory fetch)`,
      us(c.resilientUs),
      `plain OpenAI ${us(c.plainUs)}`,
      `+${us(c.addedUs)}`,
      goal,
      yes(met(c)),
    );
  }
  const f = r.failover;
  add(
    '2. Call whose primary answers 502 (p50)',
    ms(f.failoverP50),
    `healthy call ${ms(f.healthyP50)}`,
    `+${ms(f.failoverP50 - f.healthyP50)}`,
    'no sleep: + < 5 ms',
    yes(f.failoverP50 - f.healthyP50 < 5),
  );
  add(
    '2. Same outage, plain SDK (retries, then throws)',
    ms(f.failoverP50),
    `plain OpenAI: error after ${ms(f.plainFailMs)}`,
    `${fmt(f.plainFailMs / f.failoverP50, 0)}× faster, and succeeds`,
    '—',
    '—',
  );
  add(
    '2. Same outage, hand-written retry-then-switch',
    ms(f.failoverP50),
    `seed approach ${ms(f.seedMs)}`,
    `${fmt(f.seedMs / f.failoverP50, 0)}× faster`,
    '—',
    '—',
  );
  const o = r.outage;
  add(
    '3. Outage under load: success rate',
    `${fmt(o.successRate * 100, 1)} % of ${fmt(o.calls)}`,
    '—',
    '—',
    '100 %',
    yes(o.successRate === 1),
  );
  add(
    '3. Requests that reached the dead primary',
    fmt(o.requestsToDeadPrimary),
    `calls in flight at the switch: ${fmt(o.inFlightAtSwitch)}`,
    '—',
    '≤ in flight + health probes',
    yes(o.requestsToDeadPrimary <= o.inFlightAtSwitch + 5),
  );
  add('3. Outage under load: p99 latency', ms(o.p99Ms), 'upstream answers in 100 ms', '—', '—', '—');
  add(
    '3. Events',
    `${o.switched} switched (${o.switches.join(', ')}), ${o.recovered} recovered`,
    '—',
    '—',
    'one switch each way',
    yes(o.switched === 2 && o.recovered === 1),
  );
  if (r.hung) {
    const h = r.hung;
    add(
      '4. Hung primary, JSON call: time to an answer',
      ms(h.jsonMs),
      'plain OpenAI: 10 min timeout × 3 attempts',
      fmt(1_800_000 / h.jsonMs, 0) + '× sooner',
      '`timeouts.requestMs` (120 s)',
      yes(h.jsonMs < 125_000),
    );
    add(
      '4. Hung primary, stream: time to an answer',
      ms(h.streamMs),
      'plain OpenAI: 10 min timeout × 3 attempts',
      fmt(1_800_000 / h.streamMs, 0) + '× sooner',
      '`timeouts.streamHeadersMs` (20 s)',
      yes(h.streamMs < 25_000),
    );
    add('4. The next call after the switch', ms(h.nextMs), '—', '—', 'skips the hung primary', yes(h.nextMs < 1000));
  } else add('4. Hung primary', 'skipped (--quick)', '—', '—', '—', '—');
  const m = r.memory;
  add(
    `5. Heap after ${fmt(m.calls)} calls (${fmt(m.failovers)} failovers)`,
    `last three checkpoints ${fmt(m.after.heap, 1)} MB`,
    `first three checkpoints ${fmt(m.before.heap, 1)} MB`,
    fmt(m.heapRatio, 3),
    '≤ 1.10',
    yes(m.heapRatio <= 1.1 && m.gcExposed),
  );
  add(
    '5. Listeners / timers',
    `${m.after.listeners} / ${m.after.timers}`,
    `after warm-up ${m.before.listeners} / ${m.before.timers}`,
    '—',
    'no growth',
    yes(m.after.listeners === m.before.listeners && m.after.timers <= m.before.timers),
  );
  if (r.propagation) {
    const pr = r.propagation;
    for (const [key, label] of [
      ['switch', 'switch'],
      ['recover', 'switch back'],
    ]) {
      const x = pr[key];
      add(
        `6. Cluster ${label} across ${pr.processes} processes (${x.samples} samples)`,
        `p50 ${ms(x.p50Ms)} / p99 ${ms(x.p99Ms)}`,
        `max ${ms(x.maxMs)}`,
        '—',
        'all < 1 s, typically a few ms',
        yes(x.maxMs < 1000),
      );
    }
  }
  const fp = r.footprint;
  add(
    '7. Import time (built package)',
    ms(fp.importOursMs),
    `openai alone ${ms(fp.importOpenAIMs)}`,
    fmt(fp.importOursMs / fp.importOpenAIMs, 2),
    '—',
    '—',
  );
  add(
    '7. Bundle size (ESM, minified: no)',
    `${fmt(fp.esmBytes / 1024, 1)} kB (${fmt(fp.esmGzipBytes / 1024, 1)} kB gzip)`,
    `CJS ${fmt(fp.cjsBytes / 1024, 1)} kB (p-retry bundled)`,
    '—',
    '—',
    '—',
  );
  const a = r.affinity;
  if (a) {
    add(
      `8. Id store holding ${fmt(a.ids)} ids (${a.idLength} characters)`,
      `${fmt(a.totalMB, 1)} MB (${fmt(a.bytesPerId, 0)} B per id, the id strings included)`,
      `the map alone ${fmt(a.storeMB, 1)} MB`,
      '—',
      'bounded by `affinity.maxIds`',
      yes(a.size === a.ids && a.found === a.ids && a.gcExposed),
    );
    add('8. Id store write / lookup', `${fmt(a.setNs / 1000, 2)} µs / ${fmt(a.getNs / 1000, 2)} µs`, '—', '—', '—', '—');
  }
  const t = r.telemetry;
  if (t) {
    // Within noise: no further from `telemetry: false` than two identical clients are from each other (or 1 %).
    const noise = Math.max(t.noiseUs, t.offUs * 0.01);
    add(
      '9. Telemetry, no provider registered: CPU per JSON call (in-memory fetch)',
      us(t.noProviderUs),
      `\`telemetry: false\` ${us(t.offUs)}, plain OpenAI ${us(t.plainUs)}`,
      `${fmt(t.noProviderVsOff, 3)} to \`false\` (${t.noProviderAddedUs < 0 ? '−' : '+'}${us(Math.abs(t.noProviderAddedUs))}, noise ${us(t.noiseUs)}), ${fmt(t.noProviderVsPlain, 2)} to plain`,
      '(1) within noise of telemetry: false',
      yes(Math.abs(t.noProviderAddedUs) <= noise),
    );
    add(
      '9. Telemetry, `tracerProvider` (BasicTracerProvider, SimpleSpanProcessor, in-memory exporter)',
      us(t.tracesUs),
      `\`telemetry: false\` ${us(t.offUs)}`,
      `${fmt(t.tracesVsOff, 2)} to \`false\` (+${us(t.tracesAddedUs)}), ${fmt(t.tracesVsPlain, 2)} to plain`,
      '—',
      '—',
    );
    add(
      '9. Telemetry, `tracerProvider` and `meterProvider` (in-memory reader)',
      us(t.tracesMetricsUs),
      `\`telemetry: false\` ${us(t.offUs)}`,
      `${fmt(t.tracesMetricsVsOff, 2)} to \`false\` (+${us(t.tracesMetricsAddedUs)}), ${fmt(t.tracesMetricsVsPlain, 2)} to plain`,
      '—',
      '—',
    );
  }
  const mc = r.machine;
  return [
    `Measured ${mc.date} on ${mc.cpu} (${mc.cores} cores, ${mc.memoryGiB} GiB), ${mc.os}, Node ${mc.node}, openai ${mc.openai}${mc.quick ? ' (quick run: smaller loads)' : ''}.`,
    '',
    '| Measure | resilient-openai | Comparison | Ratio | Goal | Met |',
    '|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
