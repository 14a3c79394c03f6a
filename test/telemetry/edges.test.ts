/**
 * Traces at the edges, with the real OpenTelemetry SDK: retries on one endpoint, streams abandoned
 * or cut, the other APIs' operation names, a provider registered after the client was built, and
 * no secret, prompt or completion in any span. Each client gets this file's own provider
 * (`telemetry.tracerProvider`), except where the global registration is the point.
 */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { context, diag, DiagLogLevel, trace } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import type OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { getServedBy, IncompleteStreamError, ResilientOpenAI } from '../../src/index.js';
import { chat, fallbackOn, setup, storedSetup, track, upstream } from '../support/harness.js';
import { chatStream, scriptedUpstream } from '../support/scripted-sse.js';

const exporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
const telemetry = { tracerProvider };
let contextManager: AsyncLocalStorageContextManager;

beforeAll(() => {
  contextManager = new AsyncLocalStorageContextManager().enable();
  context.setGlobalContextManager(contextManager);
});
afterAll(() => {
  context.disable();
});
beforeEach(() => exporter.reset());

const spans = () => exporter.getFinishedSpans();
const byName = (name: string) => spans().filter((s) => s.name === name);
const children = (parent: ReadableSpan) => spans().filter((s) => s.parentSpanContext?.spanId === parent.spanContext().spanId);
/** The one finished call span named `name`, and its attempts. */
function callSpan(name: string): { call: ReadableSpan; attempts: ReadableSpan[] } {
  const found = byName(name);
  expect(found.map((s) => s.name)).toEqual([name]);
  return { call: found[0]!, attempts: children(found[0]!) };
}
const row = (s: ReadableSpan) => [
  s.attributes['resilient_openai.endpoint'],
  s.attributes['http.response.status_code'],
  s.attributes['error.type'],
  s.attributes['http.request.resend_count'],
  s.status.code,
];

describe('traces at the edges', () => {
  it('a 429 retried on the same endpoint: two attempt spans there, the second with resend_count 1', async () => {
    const { client, primary, fallback, events } = await setup({ telemetry });
    primary.queue({ kind: 'rate-limit', retryAfterMs: '10' });
    const { response } = await client.chat.completions.create(chat).withResponse();
    expect(getServedBy(response)).toBe('primary');
    expect(fallback.count()).toBe(0);
    const { call, attempts } = callSpan('chat gpt-test');
    expect(attempts.map((s) => s.name)).toEqual(['POST', 'POST']);
    // [endpoint, status, error.type, resend_count, status code (0 unset, 2 error)]
    expect(attempts.map(row)).toEqual([
      ['primary', 429, '429', undefined, 2],
      ['primary', 200, undefined, 1, 0],
    ]);
    expect(attempts.map((s) => s.attributes['server.port'])).toEqual([
      Number(new URL(primary.url).port),
      Number(new URL(primary.url).port),
    ]);
    // The call succeeded: no error on its span, and no switch.
    expect(call.status.code).toBe(0);
    expect(call.attributes['error.type']).toBeUndefined();
    expect(call.attributes['server.port']).toBe(Number(new URL(primary.url).port));
    expect(call.events.map((e) => e.name)).toEqual([]);
    // The wait the 429 asked for lies between the two attempts (2 ms: span times start from Date.now()).
    expect(events.retry.map((e) => e.delayMs)).toEqual([10]);
    const ms = (t: [number, number]) => t[0] * 1000 + t[1] / 1e6;
    expect(ms(attempts[1]!.startTime) - ms(attempts[0]!.endTime)).toBeGreaterThanOrEqual(8);
  });

  it('a stream abandoned with break: its call span ends, without an error', async () => {
    const { client, primary } = await setup({ telemetry });
    // Frames 20 ms apart: the break comes long before the stream's end.
    primary.queue({ kind: 'slow-body', ms: 20 });
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    expect(byName('chat gpt-test')).toEqual([]);
    let first = '';
    for await (const chunk of stream) {
      first = chunk.choices[0]?.delta?.content ?? '';
      break;
    }
    expect(first).toBe('hello ');
    const { call, attempts } = callSpan('chat gpt-test');
    expect(call.ended).toBe(true);
    expect(call.status.code).toBe(0);
    expect(call.attributes['error.type']).toBeUndefined();
    expect(call.attributes['gen_ai.request.stream']).toBe(true);
    expect(call.attributes['resilient_openai.time_to_first_chunk']).toBeGreaterThan(0);
    expect(call.attributes['server.port']).toBe(Number(new URL(primary.url).port));
    expect(attempts.map(row)).toEqual([['primary', 200, undefined, undefined, 0]]);
  });

  it('a whole stream in its first read: the call span ends after its attempt span, with the time to the first chunk and the server', async () => {
    const warnings: string[] = [];
    const log = (message: string) => void warnings.push(message);
    diag.setLogger({ error: log, warn: log, info: () => {}, debug: () => {}, verbose: () => {} }, DiagLogLevel.WARN);
    try {
      // The whole stream, [DONE] included, in one write: its end is seen before it is handed out.
      const primary = track(await scriptedUpstream(() => chatStream('all at once')));
      const fallback = await upstream('fallback');
      const client = track(
        new ResilientOpenAI({ apiKey: 'sk-test', baseURL: primary.url, fallback: fallbackOn(fallback), healthCheck: false, telemetry }),
      );
      const stream = await client.chat.completions.create({ ...chat, stream: true });
      let text = '';
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
      expect(text).toBe('all at once');
      const { call, attempts } = callSpan('chat gpt-test');
      expect(attempts.map(row)).toEqual([['primary', 200, undefined, undefined, 0]]);
      // Spans are exported as they end (SimpleSpanProcessor): the attempt first, then its call.
      // (End times of two spans are no help: each is its start, from Date.now(), plus a duration.)
      expect(spans().map((s) => s.name)).toEqual(['POST', 'chat gpt-test']);
      expect(call.attributes['resilient_openai.time_to_first_chunk']).toBeGreaterThan(0);
      expect(call.attributes['server.address']).toBe('127.0.0.1');
      expect(call.attributes['server.port']).toBe(Number(new URL(primary.url).port));
      expect(call.status.code).toBe(0);
      // The SDK says so when a span is written to after its end.
      expect(warnings).toEqual([]);
    } finally {
      diag.disable();
    }
  });

  it('a stream cut after output: its call span ends with error.type IncompleteStreamError and status error', async () => {
    const { client, primary, fallback } = await setup({ telemetry });
    primary.queue({ kind: 'cut-stream', afterChunks: 1 });
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    expect(byName('chat gpt-test')).toEqual([]);
    let text = '';
    const error = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    })().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(IncompleteStreamError);
    expect(text).toBe('hello ');
    expect(fallback.count()).toBe(0);
    const { call, attempts } = callSpan('chat gpt-test');
    expect(call.attributes['error.type']).toBe('IncompleteStreamError');
    expect(call.status.code).toBe(2);
    // Never the error's message.
    expect(call.status.message).toBeUndefined();
    // The attempt itself was answered with a 200: the break came after it was handed out.
    expect(attempts.map(row)).toEqual([['primary', 200, undefined, undefined, 0]]);
  });

  it('Responses API: the span is `chat <model>` with the usage of the response', async () => {
    const { client, fallback, primary } = await setup({ telemetry });
    primary.queue({ kind: 'bad-gateway' });
    const response = await client.responses.create({ model: 'gpt-resp', input: 'hi' });
    expect(response.output_text).toBe('hello from fallback');
    const { call, attempts } = callSpan('chat gpt-resp');
    expect(call.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-resp',
      'gen_ai.response.model': 'gpt-resp',
      'gen_ai.response.id': 'resp_1',
      'gen_ai.usage.input_tokens': 5,
      'gen_ai.usage.output_tokens': 4,
      'server.port': Number(new URL(fallback.url).port),
    });
    expect(attempts.map(row)).toEqual([
      ['primary', 502, '502', undefined, 2],
      ['fallback', 200, undefined, 1, 0],
    ]);
  });

  it('embeddings: operation `embeddings`, input tokens only', async () => {
    const { client } = await setup({ telemetry });
    await client.embeddings.create({ model: 'emb-test', input: 'hi' });
    const { call } = callSpan('embeddings emb-test');
    expect(call.attributes['gen_ai.operation.name']).toBe('embeddings');
    expect(call.attributes['gen_ai.usage.input_tokens']).toBe(3);
    expect(call.attributes['gen_ai.usage.output_tokens']).toBeUndefined();
  });

  it('other paths: named by method and resource (`post custom`, `get files`, `get models`), never a GenAI operation', async () => {
    const { client } = await storedSetup({ telemetry });
    await client.post('/custom', { body: { model: 'm-custom', note: 'x' } });
    await client.files.list();
    await client.models.list();
    await client.models.retrieve('model-a').catch(() => undefined);
    const names = spans()
      .filter((s) => s.parentSpanContext === undefined)
      .map((s) => [
        s.name,
        s.attributes['gen_ai.operation.name'],
        s.attributes['resilient_openai.operation'],
        s.attributes['gen_ai.request.model'],
      ]);
    expect(names).toEqual([
      ['post custom m-custom', undefined, 'post custom', 'm-custom'],
      ['get files', undefined, 'get files', undefined],
      ['get models', undefined, 'get models', undefined],
      ['get models', undefined, 'get models', undefined],
    ]);
  });

  it('responses.inputTokens.count() is not a chat: POST /responses/input_tokens is `post responses`', async () => {
    const { client } = await setup({ telemetry });
    // The fake answers 404 here; the span is named all the same.
    await client.responses.inputTokens.count({ model: 'gpt-test', input: 'hi' }).catch(() => undefined);
    const roots = spans().filter((s) => s.parentSpanContext === undefined);
    expect(roots.map((s) => [s.name, s.attributes['gen_ai.operation.name'], s.attributes['resilient_openai.operation']])).toEqual([
      ['post responses gpt-test', undefined, 'post responses'],
    ]);
  });

  it('a tracer provider registered after the client was built is used from then on', async () => {
    const lateExporter = new InMemorySpanExporter();
    const late = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(lateExporter)] });
    const { client } = await setup();
    try {
      await client.chat.completions.create(chat);
      expect(lateExporter.getFinishedSpans()).toEqual([]);
      expect(trace.setGlobalTracerProvider(late)).toBe(true);
      await client.chat.completions.create(chat);
      expect(lateExporter.getFinishedSpans().map((s) => s.name)).toEqual(['POST', 'chat gpt-test']);
      // Nothing went to this file's own provider: the client was given none.
      expect(spans()).toEqual([]);
    } finally {
      trace.disable();
    }
    // And once unregistered, nothing more is recorded.
    lateExporter.reset();
    await client.chat.completions.create(chat);
    expect(lateExporter.getFinishedSpans()).toEqual([]);
  });

  it('without a context manager, attempt spans are still children of the call span', async () => {
    context.disable();
    try {
      const { client, primary } = await setup({ telemetry });
      primary.queue({ kind: 'bad-gateway' });
      await client.chat.completions.create(chat);
      const { call, attempts } = callSpan('chat gpt-test');
      expect(call.parentSpanContext).toBeUndefined();
      expect(attempts.map((s) => s.attributes['resilient_openai.endpoint'])).toEqual(['primary', 'fallback']);
      expect(attempts.every((s) => s.spanContext().traceId === call.spanContext().traceId)).toBe(true);
    } finally {
      context.setGlobalContextManager(contextManager);
    }
  });
});

describe('no secret, prompt or completion in a span', () => {
  const secret = (kind: string) => `${kind}${randomBytes(8).toString('hex')}`;

  /**
   * A gateway whose 502 page echoes every header and the whole request body (the key, the prompt),
   * or, as `answer`, a model that answers with `completion` and repeats the prompt after it.
   */
  async function echo(mode: 'fail' | 'answer', completion = '') {
    const pages: string[] = [];
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString();
        if (mode === 'fail') {
          const page = `<html><body><h1>502 Bad Gateway</h1><p>${req.rawHeaders.join(' ')} ${body}</p></body></html>`;
          pages.push(page);
          res.writeHead(502, { 'content-type': 'text/html' }).end(page);
          return;
        }
        const prompt = (JSON.parse(body) as { messages: { content: string }[] }).messages[0]!.content;
        const message = { role: 'assistant', content: `${completion} (you said: ${prompt})`, refusal: null };
        const answer = {
          id: 'chatcmpl-echo',
          object: 'chat.completion',
          created: 1,
          model: 'gpt-test',
          choices: [{ index: 0, message, finish_reason: 'stop', logprobs: null }],
          usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 },
        };
        pages.push(JSON.stringify(answer));
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    return track({
      port,
      url: `http://127.0.0.1:${port}/v1`,
      pages,
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    });
  }

  /** Everything a span exports: its name, attributes, events, status, links and resource. */
  const exported = (s: ReadableSpan) =>
    JSON.stringify({
      name: s.name,
      attributes: s.attributes,
      events: s.events,
      status: s.status,
      links: s.links,
      resource: s.resource.attributes,
    });

  it('keys, userinfo, prompt and completion stay out; server.address is the bare host', async () => {
    const [primaryKey, fallbackKey, user, password, prompt, completion] = ['pk', 'fk', 'user', 'pass', 'prompt', 'completion'].map(secret);
    const failing = await echo('fail');
    const answering = await echo('answer', completion);
    // Node's fetch refuses userinfo; an app's own fetch turns it into Basic auth, as a proxy wants.
    const fetch: typeof globalThis.fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input);
      const headers = new Headers(init?.headers);
      headers.set('proxy-authorization', `Basic ${Buffer.from(`${url.username}:${url.password}`).toString('base64')}`);
      headers.set('x-user', `${url.username}:${url.password}`);
      url.username = url.password = '';
      return globalThis.fetch(url, { ...init, headers });
    };
    const client = track(
      new ResilientOpenAI({
        apiKey: primaryKey!,
        baseURL: failing.url.replace('http://', `http://${user}:${password}@`),
        fetch,
        fallback: { apiKey: fallbackKey!, baseURL: answering.url.replace('http://', `http://${user}:${password}@`), fetch },
        healthCheck: false,
        retry: { initialDelayMs: 1, maxDelayMs: 2 },
        telemetry,
      }),
    );
    const answer = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: prompt! }] });
    // Positive controls: the gateway echoed the key, the userinfo and the prompt; the answer holds the completion.
    expect(failing.pages.some((p) => p.includes(primaryKey!) && p.includes(prompt!) && p.includes(user!) && p.includes(password!))).toBe(
      true,
    );
    expect(answering.pages.some((p) => p.includes(completion!) && p.includes(prompt!))).toBe(true);
    expect(answer.choices[0]!.message.content).toContain(completion);

    const { call, attempts } = callSpan('chat gpt-test');
    expect(attempts.map((s) => [s.attributes['server.address'], s.attributes['server.port']])).toEqual([
      ['127.0.0.1', failing.port],
      ['127.0.0.1', answering.port],
    ]);
    expect(call.attributes['server.address']).toBe('127.0.0.1');
    const text = spans().map(exported).join('\n');
    expect(text).toContain('gpt-test'); // what is exported is looked at
    for (const value of [primaryKey!, fallbackKey!, user!, password!, prompt!, completion!, 'you said']) expect(text).not.toContain(value);
    // No attribute anywhere holds a URL, let alone one with credentials.
    const values = spans().flatMap((s) => [...Object.values(s.attributes), ...s.events.flatMap((e) => Object.values(e.attributes ?? {}))]);
    expect(values.filter((v) => typeof v === 'string' && /:\/\/|@/.test(v))).toEqual([]);
    expect(spans().map((s) => s.status.message)).toEqual([undefined, undefined, undefined]);
  });

  it('a streamed answer and a failed call keep it out too', async () => {
    const prompt = secret('prompt');
    const { client, primary, fallback } = await setup({ telemetry });
    primary.queue({ kind: 'bad-gateway' });
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: prompt }], stream: true });
    let text = '';
    for await (const chunk of stream as AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>)
      text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('hello from fallback');
    fallback.setFault({ kind: 'status', status: 400, body: JSON.stringify({ error: { message: `bad prompt: ${prompt}` } }) });
    await expect(
      client.chat.completions.create({ model: 'gpt-test', messages: [{ role: 'user', content: prompt }] }),
    ).rejects.toMatchObject({
      status: 400,
    });
    expect(byName('chat gpt-test')).toHaveLength(2);
    const all = spans().map(exported).join('\n');
    for (const value of [prompt, 'hello from', 'bad prompt', 'sk-']) expect(all).not.toContain(value);
  });
});
