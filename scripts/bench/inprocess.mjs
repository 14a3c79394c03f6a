// 1c. Same-process loopback, the harshest form: the upstream is a node:http server in this very
// process, so the client and the server share one event loop and one core, and every microtask,
// timer or extra read the client adds shows in the throughput (with the upstream in its own
// process, as in step 1, part of it hides behind the other process's work). One call at a time:
// plain `new OpenAI()`, a second plain client (the A/A control) and `ResilientOpenAI` with a
// fallback configured and `healthCheck: false`, in many short rounds whose order changes.
import { createServer } from 'node:http';
import { alternate, noise, paired, spread } from './rounds.mjs';

const head = { id: 'chatcmpl-bench', created: 1, model: 'bench' };
const completion = JSON.stringify({
  ...head,
  object: 'chat.completion',
  choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'Hello there!' } }],
  usage: { prompt_tokens: 5, completion_tokens: 3, total_tokens: 8 },
});
const event = (delta, finish = null) =>
  `data: ${JSON.stringify({ ...head, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const DONE = 'data: [DONE]\n\n';
// A short chat answer as a server streams it: one write per event (role, three tokens, the stop).
const SHORT = [
  event({ role: 'assistant', content: '' }),
  event({ content: 'Hello' }),
  event({ content: ' there' }),
  event({ content: '!' }),
  event({}, 'stop'),
];
// 200 events in one write, as upstream.mjs sends them: the client's parsing is what is measured.
const LONG = Array.from({ length: 199 }, (_, i) => event({ content: `t${i} ` })).join('') + event({}, 'stop');

export const CASES = [
  { key: 'json', name: 'JSON chat completion', calls: 100 },
  { key: 'short', name: 'short chat stream (5 events)', calls: 100, model: 'bench-short', chunks: 5 },
  { key: 'long', name: 'SSE stream of 200 chunks', calls: 20, model: 'bench-200', chunks: 200 },
];

function answer(req, res, body) {
  if (!body.includes('"stream":true')) {
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(completion),
      'x-request-id': 'req_bench',
    });
    return res.end(completion);
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req_bench' });
  if (body.includes('"model":"bench-short"')) for (const e of SHORT) res.write(e);
  else res.write(LONG);
  res.end(DONE);
}

/** An upstream on 127.0.0.1:0 in this process; `requests` counts what it was asked. */
export function listen() {
  let requests = 0;
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c) => (body += c));
    req.on('end', () => (requests++, answer(req, res, body)));
  });
  server.keepAliveTimeout = 60_000;
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () =>
      resolve({
        url: `http://127.0.0.1:${server.address().port}/v1`,
        requests: () => requests,
        close: () => new Promise((done) => (server.closeAllConnections(), server.close(done))),
      }),
    ),
  );
}

/** One call of case `c` (a `CASES` entry) by `client`; a stream is read to its end and its chunks counted. */
export function caller(client, c) {
  const chat = { model: c.model ?? 'bench', messages: [{ role: 'user', content: 'hi' }] };
  if (!c.chunks) return () => client.chat.completions.create(chat);
  return async () => {
    let chunks = 0;
    for await (const _ of await client.chat.completions.create({ ...chat, stream: true })) chunks++;
    if (chunks !== c.chunks) throw new Error(`bench: expected ${c.chunks} chunks, got ${chunks}`);
  };
}

/** µs per call over `calls` sequential calls. */
async function perCallUs(call, calls) {
  const t = performance.now();
  for (let i = 0; i < calls; i++) await call();
  return ((performance.now() - t) / calls) * 1000;
}

export async function inprocess({ OpenAI, ResilientOpenAI, rounds = 40, scale = 1 }) {
  const primary = await listen();
  const fallback = await listen();
  const clients = {
    plain: new OpenAI({ apiKey: 'sk-bench', baseURL: primary.url }),
    plainAgain: new OpenAI({ apiKey: 'sk-bench', baseURL: primary.url }),
    resilient: new ResilientOpenAI({
      apiKey: 'sk-bench',
      baseURL: primary.url,
      fallback: { apiKey: 'sk-bench', baseURL: fallback.url },
      healthCheck: false,
    }),
  };
  const sides = Object.keys(clients);
  const cases = [];
  for (const c of CASES) {
    const calls = Math.max(5, Math.round(c.calls * scale));
    const call = Object.fromEntries(sides.map((side) => [side, caller(clients[side], c)]));
    // Warm-up: connections, JIT, the SDK's lazily built parts. Ten rounds' worth: with two, the
    // first case's first rounds still ran a quarter slower, and the side that ran first in them
    // (always the same one) came out slower than its identical A/A twin.
    for (const side of sides) await perCallUs(call[side], calls * 10);
    const us = await alternate(sides, rounds, (side) => perCallUs(call[side], calls));
    // One call at a time: throughput is 1 / time per call, so the ratio of throughputs is plain time / our time.
    const ratio = spread(paired(us.plain, us.resilient, (p, r) => p / r));
    const aa = spread(paired(us.plain, us.plainAgain, (p, q) => p / q));
    cases.push({
      case: c.name,
      key: c.key,
      callsPerRound: calls,
      plainUs: spread(us.plain).median,
      plainAgainUs: spread(us.plainAgain).median,
      resilientUs: spread(us.resilient).median,
      addedUs: spread(paired(us.resilient, us.plain, (r, p) => r - p)).median,
      ratio,
      aa,
      ...noise(ratio, aa, 1),
    });
  }
  clients.resilient.close();
  const fallbackRequests = fallback.requests();
  await Promise.all([primary.close(), fallback.close()]);
  // The fallback is configured, never needed: a request to it would mean the comparison is off.
  if (fallbackRequests) throw new Error(`bench: the fallback received ${fallbackRequests} requests`);
  return { rounds, cases };
}
