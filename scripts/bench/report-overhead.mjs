// Rows 1, 1b and 1c of the report: the overhead of a healthy call, over loopback to an upstream
// process, in client CPU alone, and over loopback within one process.
import { fmt, metWithNoise, ms, noiseCell, signed, spreadText, us, yes } from './report-lib.mjs';

// The issue's goals are for one call at a time; 64 concurrent calls keep the earlier, looser goal.
const RATIO_GOAL = 0.99;
const CONCURRENT_RATIO_GOAL = 0.97;

export function overheadRows(r, add) {
  for (const c of r.overhead ?? []) {
    const goal = /sequential/.test(c.case) ? RATIO_GOAL : CONCURRENT_RATIO_GOAL;
    add(
      `1. ${c.case}: throughput`,
      `${fmt(c.resilient.rps)} req/s`,
      `plain OpenAI ${fmt(c.plain.rps)} req/s`,
      `${fmt(c.throughputRatio, 3)}${c.ratioSpread ? ` (${spreadText(c.ratioSpread, { range: false })}, ${c.rounds} rounds)` : ''}`,
      `≥ ${goal}`,
      metWithNoise(c.throughputRatio >= goal, c),
      noiseCell(c),
    );
    add(
      `1. ${c.case}: p50 / p99`,
      `${ms(c.resilient.p50Ms)} / ${ms(c.resilient.p99Ms)}`,
      `${ms(c.plain.p50Ms)} / ${ms(c.plain.p99Ms)}`,
      `${signed(c.addedP50Us, 0)} µs p50`,
      'p50 + < 50 µs',
      yes(c.addedP50Us < 50),
    );
  }
}

export function cpuRows(r, add) {
  for (const [kind, label, goal, met] of [
    ['json', 'JSON call', '≤ +10 µs', (c) => c.addedUs <= 10],
    ['sseShort', 'short chat stream of 5 events, one read each', '—', undefined],
    ['sse', 'SSE stream of 200 events in one read', '≤ +15 µs (frame reader)', (c) => c.addedUs <= 15],
    ['sseChunked', 'SSE stream of 200 events, one read each', '≤ +1 %', (c) => c.addedUs <= c.plainUs * 0.01],
  ]) {
    const c = r.cpu?.[kind];
    if (!c) continue;
    const pct = kind === 'json' ? '' : ` (${signed(c.addedPct ?? (c.addedUs / c.plainUs) * 100, 1)} %)`;
    const spread = c.added ? `; ${spreadText(c.added, { digits: 1, sign: true, range: false })} µs` : '';
    add(
      `1b. Client CPU per ${label} (in-memory fetch)`,
      us(c.resilientUs),
      `plain OpenAI ${us(c.plainUs)}`,
      `${signed(c.addedUs, 1)} µs${pct}${spread}`,
      goal,
      met ? metWithNoise(met(c), c) : '—',
      noiseCell(c, { digits: 1, sign: true, unit: ' µs' }),
    );
  }
}

export function inprocessRows(r, add) {
  for (const c of r.inprocess?.cases ?? []) {
    add(
      `1c. ${c.case}, one at a time, upstream in the same process: throughput`,
      `${us(c.resilientUs)} per call`,
      `plain OpenAI ${us(c.plainUs)} (a second plain client ${us(c.plainAgainUs)})`,
      `${fmt(c.ratio.median, 3)} (${spreadText(c.ratio)}; ${signed(c.addedUs, 1)} µs per call, ${r.inprocess.rounds} rounds)`,
      `≥ ${RATIO_GOAL}`,
      metWithNoise(c.ratio.median >= RATIO_GOAL, c),
      noiseCell(c),
    );
  }
}
