// `npm run bench`: measures the built package (dist/) against the plain SDK on loopback upstreams
// and prints a markdown table and JSON. `--write` also updates BENCHMARKS.md; `--quick` runs
// smaller loads and skips the two-minute hung-primary scenario and the million-call memory run (a
// smoke run, not for publishing). With `taskset` and two cores or more, this process (the client)
// and the upstream processes run pinned to different cores (pin.mjs).
import { readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import OpenAI from 'openai';
import { ResilientOpenAI } from '../../dist/index.js';
import { affinity } from './affinity.mjs';
import { cpu } from './cpu.mjs';
import { failoverCost } from './failover-cost.mjs';
import { footprint } from './footprint.mjs';
import { hung } from './hung.mjs';
import { inprocess } from './inprocess.mjs';
import { memory } from './memory.mjs';
import { outage } from './outage.mjs';
import { overhead } from './overhead.mjs';
import { pin, unpinned } from './pin.mjs';
import { propagation } from './propagation.mjs';
import { render } from './report.mjs';
import { telemetry } from './telemetry.mjs';

const quick = process.argv.includes('--quick');
const write = process.argv.includes('--write');
const deps = { OpenAI, ResilientOpenAI };
const started = performance.now();
let stepStarted = started;
const seconds = (since) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
// Each step's name, and the time the previous one took: what to trim when the run grows.
const step = (name) => {
  const took = stepStarted === started ? '' : ` (previous step: ${seconds(stepStarted)})`;
  process.stderr.write(`bench:${took} ${name}…\n`);
  stepStarted = performance.now();
};

const openaiVersion = JSON.parse(readFileSync(new URL('../../node_modules/openai/package.json', import.meta.url), 'utf8')).version;
const results = {
  machine: {
    cpu: os.cpus()[0]?.model ?? 'unknown',
    cores: os.cpus().length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    os: `${os.type()} ${os.release()}`,
    node: process.version,
    openai: openaiVersion,
    date: new Date().toISOString().slice(0, 10),
    quick,
    pinning: pin(),
  },
};
step('1. overhead');
results.overhead = await overhead({ ...deps, rounds: quick ? 4 : 30, scale: quick ? 0.06 : 1 });
step('1b. CPU per call');
results.cpu = await cpu({ ...deps, rounds: quick ? 6 : 30, scale: quick ? 0.3 : 1 });
step('1c. same-process loopback, the harshest form');
results.inprocess = await inprocess({ ...deps, rounds: quick ? 8 : 40, scale: quick ? 0.4 : 1 });
step('2. failover cost');
results.failover = await failoverCost({ ...deps, samples: quick ? 1 : 3 });
step('3. outage under load');
results.outage = await outage(deps);
if (!quick) {
  step('4. hung primary (default bounds: up to two minutes)');
  results.hung = await hung(deps);
}
step(quick ? '5. memory' : '5. memory (and 1,000,000 calls: a minute or two)');
results.memory = await memory({
  ...deps,
  total: quick ? 5_000 : 100_000,
  clients: quick ? 200 : 1000,
  inFlight: quick ? 200 : 1000,
  million: !quick,
});
// Unpinned: eight worker processes and Redis share the machine's cores as in production.
step('6. propagation across 8 processes (Redis)');
results.propagation = await unpinned(() => propagation({ runs: quick ? 5 : 20 }));
// Unpinned: a fresh process's import time, as an application's start pays it.
step('7. footprint');
results.footprint = await unpinned(() => footprint({ rounds: quick ? 4 : 20 }));
step('8. id store (affinity)');
results.affinity = await affinity({ ids: quick ? 100_000 : 1_000_000 });
step('9. telemetry (CPU per call: no provider, traces, traces and metrics)');
results.telemetry = await telemetry({ ...deps, rounds: quick ? 3 : 10, calls: quick ? 1000 : 5000 });
step('done');
process.stderr.write(`bench: ${seconds(started)} in all\n`);

const markdown = render(results);
console.log(markdown);
console.log('\n```json\n' + JSON.stringify(results, null, 2) + '\n```');
if (write) {
  const url = new URL('../../BENCHMARKS.md', import.meta.url);
  const doc = readFileSync(url, 'utf8');
  const [start, end] = ['<!-- bench:start -->\n', '\n<!-- bench:end -->'];
  const body = `${markdown}\n\n<details><summary>Raw figures (JSON)</summary>\n\n\`\`\`json\n${JSON.stringify(results, null, 2)}\n\`\`\`\n\n</details>`;
  writeFileSync(url, doc.slice(0, doc.indexOf(start) + start.length) + body + doc.slice(doc.indexOf(end)));
  process.stderr.write('bench: BENCHMARKS.md updated\n');
}
