// Call-by-call A/B of builds of ours against the plain SDK (BENCHMARKS.md "Fourth round"):
//
//   npm run build && taskset -c 1 npm run bench:ab -- [--stream | --long] [--calls 4000] [build.js ...]
//
// Step 1c's upstream and calls (in this process), but the sides take turns call by call, in an
// order that rotates, so that a phase of a noisy VM lands on every side alike; each side's figure
// is the median of its per-call times. A second plain client is the A/A control. Without a build
// given, dist/index.js is measured. Builds are module paths (a copy of dist/ from another commit).
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { CASES, caller, listen } from './inprocess.mjs';
import { median } from './lib.mjs';

const args = process.argv.slice(2);
const callsAt = args.indexOf('--calls');
const calls = callsAt >= 0 ? Number(args[callsAt + 1]) : 4000;
const builds = args.filter((a, i) => !a.startsWith('--') && (callsAt < 0 || i !== callsAt + 1));
if (!builds.length) builds.push(new URL('../../dist/index.js', import.meta.url).pathname);
// --stream: a short chat stream (5 events); --long: 200 chunks.
const key =
  args.includes('--long') ? 'long'
  : args.includes('--stream') ? 'short'
  : 'json';
const c = CASES.find((x) => x.key === key);

const upstream = await listen();
const baseURL = upstream.url;
const clients = [
  ['plain', new OpenAI({ apiKey: 'sk-bench', baseURL })],
  ['plain (A/A)', new OpenAI({ apiKey: 'sk-bench', baseURL })],
];
for (const build of builds) {
  const { ResilientOpenAI } = await import(pathToFileURL(path.resolve(build)).href);
  // The fallback is never called: a port nothing listens on.
  const fallback = { apiKey: 'sk-bench', baseURL: 'http://127.0.0.1:9/v1' };
  clients.push([build, new ResilientOpenAI({ apiKey: 'sk-bench', baseURL, fallback, healthCheck: false })]);
}
const sides = clients.map(([, client]) => caller(client, c));

const times = sides.map(() => new Float64Array(calls));
for (let i = 0; i < 300; i++) for (const call of sides) await call();
for (let i = 0; i < calls; i++) {
  for (let j = 0; j < sides.length; j++) {
    const k = (i + j) % sides.length;
    const started = performance.now();
    await sides[k]();
    times[k][i] = performance.now() - started;
  }
}
for (const [, client] of clients) client.close?.();
await upstream.close();

const plain = median(times[0]) * 1000;
console.log(`${c.name}, ${calls} calls per side, median µs per call (added over plain):`);
for (const [k, [name]] of clients.entries()) {
  const us = median(times[k]) * 1000;
  console.log(`  ${name}: ${us.toFixed(0)} (${us >= plain ? '+' : ''}${(us - plain).toFixed(0)})`);
}
