// 1b. Client-side CPU per call, without a network: the clients get an in-memory `fetch`. This is
// the overhead itself, free of loopback noise. Short rounds alternate between the plain SDK, a
// second plain client (the A/A control: the noise between identical clients) and ResilientOpenAI.
import { ReadableStream } from 'node:stream/web';
import { alternate, noise, paired, spread } from './rounds.mjs';
import { COMPLETION, event } from './wire.mjs';

const body = JSON.stringify(COMPLETION);
const sse = Array.from({ length: 199 }, (_, i) => event({ content: `t${i} ` })).join('') + event({}, 'stop') + 'data: [DONE]\n\n';
const encode = (frames) => frames.map((frame) => new TextEncoder().encode(frame));
const frames = encode(sse.split(/(?<=\n\n)/));
// A short chat answer: role, three tokens, the stop, [DONE].
const shortFrames = encode([
  event({ role: 'assistant', content: '' }),
  event({ content: 'Hello' }),
  event({ content: ' there' }),
  event({ content: '!' }),
  event({}, 'stop'),
  'data: [DONE]\n\n',
]);
// As a network delivers a stream: one read per event (the frame reader's per-chunk cost shows).
const chunked = (parts) =>
  new ReadableStream({
    start(controller) {
      for (const part of parts) controller.enqueue(part);
      controller.close();
    },
  });
const streamBody = (request) =>
  request.includes('"model":"bench-short"') ? chunked(shortFrames)
  : request.includes('"chunked":true') ? chunked(frames)
  : sse;
const fetch = (_url, init) => {
  const request = String(init?.body);
  return Promise.resolve(
    request.includes('"stream":true') ?
      new Response(streamBody(request), { status: 200, headers: { 'content-type': 'text/event-stream' } })
    : new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }),
  );
};
const chat = { model: 'bench', messages: [{ role: 'user', content: 'hi' }] };

/** Client CPU per call, in µs: `calls` sequential calls (`stream`: false, true, 'chunked' or 'short'). */
export async function perCallUs(client, calls, stream) {
  // A fresh request object for each stream call, as before the short case existed (figures stay comparable).
  const request = () =>
    stream === 'short' ?
      { ...chat, model: 'bench-short', stream: true }
    : { ...chat, stream: true, ...(stream === 'chunked' && { chunked: true }) };
  const t = performance.now();
  for (let i = 0; i < calls; i++) {
    if (!stream) await client.chat.completions.create(chat);
    else for await (const _ of await client.chat.completions.create(request()));
  }
  return ((performance.now() - t) / calls) * 1000;
}

export async function cpu({ OpenAI, ResilientOpenAI, rounds = 30, scale = 1 }) {
  const clients = {
    plain: new OpenAI({ apiKey: 'sk-bench', baseURL: 'http://bench.invalid/v1', fetch }),
    plainAgain: new OpenAI({ apiKey: 'sk-bench', baseURL: 'http://bench.invalid/v1', fetch }),
    resilient: new ResilientOpenAI({
      apiKey: 'sk-bench',
      baseURL: 'http://bench.invalid/v1',
      fetch,
      fallback: { apiKey: 'sk-bench', baseURL: 'http://fallback.invalid/v1', fetch },
      healthCheck: false,
    }),
  };
  const sides = Object.keys(clients);
  const out = {};
  for (const [name, stream, n] of [
    ['json', false, 1000],
    ['sseShort', 'short', 500],
    ['sse', true, 50],
    ['sseChunked', 'chunked', 50],
  ]) {
    const calls = Math.max(10, Math.round(n * scale));
    for (const side of sides) await perCallUs(clients[side], calls * 2, stream);
    const us = await alternate(sides, rounds, (side) => perCallUs(clients[side], calls, stream));
    const added = spread(paired(us.resilient, us.plain, (r, p) => r - p));
    const aa = spread(paired(us.plainAgain, us.plain, (q, p) => q - p));
    out[name] = {
      callsPerRound: calls,
      plainUs: spread(us.plain).median,
      plainAgainUs: spread(us.plainAgain).median,
      resilientUs: spread(us.resilient).median,
      addedUs: added.median,
      addedPct: spread(paired(us.resilient, us.plain, (r, p) => (r / p - 1) * 100)).median,
      added,
      aa,
      ...noise(added, aa, 0),
    };
  }
  return { rounds, ...out };
}
