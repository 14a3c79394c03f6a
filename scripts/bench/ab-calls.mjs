// Call-by-call A/B of builds of ours against the plain SDK (BENCHMARKS.md "Fourth round"):
//
//   npm run build && taskset -c 1 npm run bench:ab -- [--stream] [--calls 4000] [build.js ...]
//
// One process, the upstream in it (as step 1c). The sides take turns call by call, in an order
// that rotates, so that a phase of a noisy VM lands on every side alike; each side's figure is
// the median of its per-call times. A second plain client is the A/A control. Without a build
// given, dist/index.js is measured. Builds are module paths (a copy of dist/ from another commit).
import { createServer } from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import OpenAI from 'openai';
import { COMPLETION, event } from './wire.mjs';

const args = process.argv.slice(2);
const stream = args.includes('--stream');
const callsAt = args.indexOf('--calls');
const calls = callsAt >= 0 ? Number(args[callsAt + 1]) : 4000;
const builds = args.filter((a, i) => !a.startsWith('--') && (callsAt < 0 || i !== callsAt + 1));
if (!builds.length) builds.push(new URL('../../dist/index.js', import.meta.url).pathname);

const json = JSON.stringify(COMPLETION);
const sse = [
  event({ role: 'assistant', content: '' }),
  event({ content: 'Hello' }),
  event({ content: '!' }),
  event({}, 'stop'),
  'data: [DONE]\n\n',
].join('');
const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (stream) res.writeHead(200, { 'content-type': 'text/event-stream' }).end(sse);
    else res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(json) }).end(json);
  });
});
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const baseURL = `http://127.0.0.1:${server.address().port}/v1`;
const request = { model: 'bench', messages: [{ role: 'user', content: 'hi' }], ...(stream && { stream: true }) };
const call = async (client) => {
  const answer = await client.chat.completions.create(request);
  if (stream) for await (const _ of answer);
};

const sides = [
  ['plain', new OpenAI({ apiKey: 'sk-bench', baseURL })],
  ['plain (A/A)', new OpenAI({ apiKey: 'sk-bench', baseURL })],
];
for (const build of builds) {
  const { ResilientOpenAI } = await import(pathToFileURL(path.resolve(build)).href);
  // The fallback is never called: a port nothing listens on.
  const fallback = { apiKey: 'sk-bench', baseURL: 'http://127.0.0.1:9/v1' };
  sides.push([build, new ResilientOpenAI({ apiKey: 'sk-bench', baseURL, fallback, healthCheck: false })]);
}

const times = sides.map(() => new Float64Array(calls));
for (let i = 0; i < 300; i++) for (const [, client] of sides) await call(client);
for (let i = 0; i < calls; i++) {
  for (let j = 0; j < sides.length; j++) {
    const k = (i + j) % sides.length;
    const started = performance.now();
    await call(sides[k][1]);
    times[k][i] = performance.now() - started;
  }
}
server.close();

const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1] * 1000;
const plain = median(times[0]);
console.log(`${stream ? 'short chat stream' : 'JSON call'}, ${calls} calls per side, median µs per call (added over plain):`);
for (const [k, [name]] of sides.entries()) {
  const us = median(times[k]);
  console.log(`  ${name}: ${us.toFixed(0)} (${us >= plain ? '+' : ''}${(us - plain).toFixed(0)})`);
}
