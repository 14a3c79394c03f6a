// 1b. Client-side CPU per call, without a network: both clients get an in-memory `fetch`. This is
// the overhead itself, free of loopback noise; rounds alternate between the two clients.
import { ReadableStream } from 'node:stream/web';
import { median } from './lib.mjs';

const body = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: 'bench',
  choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'hi' } }],
});
const chunk = (i) =>
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'bench', choices: [{ index: 0, delta: { content: `t${i} ` }, finish_reason: null }] })}\n\n`;
const sse =
  Array.from({ length: 199 }, (_, i) => chunk(i)).join('') +
  `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'bench', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;
const frames = sse.split(/(?<=\n\n)/).map((frame) => new TextEncoder().encode(frame));
// As a network delivers a stream: one read per event (the frame reader's per-chunk cost shows).
const chunked = () =>
  new ReadableStream({
    start(controller) {
      for (const frame of frames) controller.enqueue(frame);
      controller.close();
    },
  });
const fetch = (_url, init) =>
  Promise.resolve(
    String(init?.body).includes('"stream":true') ?
      new Response(String(init?.body).includes('"chunked":true') ? chunked() : sse, {
        status: 200,
        headers: { 'content-type': 'text/event-stream' },
      })
    : new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }),
  );
const chat = { model: 'bench', messages: [{ role: 'user', content: 'hi' }] };

/** Client CPU per call, in µs: `calls` sequential calls (`stream`: false, true or 'chunked'). */
export async function perCallUs(client, calls, stream) {
  const t = performance.now();
  for (let i = 0; i < calls; i++) {
    if (!stream) await client.chat.completions.create(chat);
    else
      for await (const _ of await client.chat.completions.create({
        ...chat,
        stream: true,
        ...(stream === 'chunked' && { chunked: true }),
      }));
  }
  return ((performance.now() - t) / calls) * 1000;
}

export async function cpu({ OpenAI, ResilientOpenAI, rounds = 8, calls = 5000 }) {
  const plain = new OpenAI({ apiKey: 'sk-bench', baseURL: 'http://bench.invalid/v1', fetch });
  const resilient = new ResilientOpenAI({
    apiKey: 'sk-bench',
    baseURL: 'http://bench.invalid/v1',
    fetch,
    fallback: { apiKey: 'sk-bench', baseURL: 'http://fallback.invalid/v1', fetch },
    healthCheck: false,
  });
  const out = {};
  for (const [name, stream, n] of [
    ['json', false, calls],
    ['sse', true, Math.max(100, calls / 10)],
    ['sseChunked', 'chunked', Math.max(100, calls / 10)],
  ]) {
    await perCallUs(plain, n, stream);
    await perCallUs(resilient, n, stream);
    const p = [];
    const r = [];
    for (let i = 0; i < rounds; i++) {
      p.push(await perCallUs(plain, n, stream));
      r.push(await perCallUs(resilient, n, stream));
    }
    out[name] = { plainUs: median(p), resilientUs: median(r), addedUs: median(r.map((x, i) => x - p[i])) };
  }
  return out;
}
