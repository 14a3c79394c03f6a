// Turns the benchmark results into one markdown table: figure, comparison, ratio, goal, met, and
// noise (for the comparisons with an A/A control: how far apart two identical clients came out).
import { footprintRows, memoryRows } from './report-memory.mjs';
import { cpuRows, inprocessRows, overheadRows } from './report-overhead.mjs';
import { fmt, ms, us, yes } from './report-lib.mjs';

const pinned = (p) =>
  !p ? ''
  : p.applied ?
    ` Client pinned to core ${p.clientCore}, upstream processes to core ${p.upstreamCore} (\`taskset\`; propagation and import time unpinned).`
  : ` Not pinned (${p.reason}).`;

export function render(r) {
  const rows = [];
  const add = (measure, ours, comparison, ratio, goal, met, noise = '—') =>
    rows.push(`| ${measure} | ${ours} | ${comparison} | ${ratio} | ${goal} | ${met} | ${noise} |`);
  overheadRows(r, add);
  cpuRows(r, add);
  inprocessRows(r, add);
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
  memoryRows(r, add);
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
  footprintRows(r, add);
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
    `Measured ${mc.date} on ${mc.cpu} (${mc.cores} cores, ${mc.memoryGiB} GiB), ${mc.os}, Node ${mc.node}, openai ${mc.openai}${mc.quick ? ' (quick run: smaller loads)' : ''}.${pinned(mc.pinning)}`,
    '',
    'Noise: a comparison with an A/A control (a second plain client, or `openai` imported twice, in the same rounds) is inside the noise when its median is no further from no difference than the A/A interquartile width (or the A/A median, if further); a goal missed inside the noise is not decided by the run (❔).',
    '',
    '| Measure | resilient-openai | Comparison | Ratio | Goal | Met | Noise |',
    '|---|---|---|---|---|---|---|',
    ...rows,
  ].join('\n');
}
