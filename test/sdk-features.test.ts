import OpenAI, { AzureOpenAI, toFile, NotFoundError, BadRequestError, APIUserAbortError } from 'openai';
import { getEventListeners, once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { ResilientOpenAI, withFailover } from '../src/index.js';
import { chat, clientFor, FALLBACK_KEY, PRIMARY_KEY, setup, track, upstream } from './support/harness.js';
import { ALL_PAGES, batchCursors, listEverything, streamText } from './support/sdk-calls.js';

// Every SDK feature, through the wrapper, while the primary answers 502 Bad Gateway.
describe('SDK features through ResilientOpenAI with the primary failing over', () => {
  async function failing() {
    const ctx = await setup();
    ctx.primary.setFault({ kind: 'bad-gateway' });
    return ctx;
  }

  it('is an OpenAI instance', async () => {
    const { client } = await setup();
    expect(client).toBeInstanceOf(OpenAI);
    expect(client).toBeInstanceOf(ResilientOpenAI);
  });

  it('await: chat completion switches to the fallback on 502 and reports it once', async () => {
    const { client, primary, fallback, events } = await failing();
    const completion = await client.chat.completions.create(chat);
    expect(completion.choices[0]!.message.content).toBe('hello from fallback');
    expect(completion._request_id).toBe('req_fallback_1');
    expect(primary.count('/chat/completions')).toBe(1);
    expect(fallback.count('/chat/completions')).toBe(1);
    expect(events.switched).toHaveLength(1);
    expect(events.switched[0]).toMatchObject({ from: 'primary', to: 'fallback', reason: 'error' });
    expect(events.retry).toEqual([expect.objectContaining({ endpoint: 'fallback', attempt: 1, delayMs: 0 })]);
    // The fallback's key went to the fallback, the primary's to the primary.
    expect(fallback.requests[0]!.headers.authorization).toBe(`Bearer ${FALLBACK_KEY}`);
    expect(primary.requests[0]!.headers.authorization).toBe(`Bearer ${PRIMARY_KEY}`);
  });

  it('stays on the fallback for later calls (no request to the dead primary)', async () => {
    const { client, primary, fallback } = await failing();
    await client.chat.completions.create(chat);
    await client.chat.completions.create(chat);
    await client.embeddings.create({ model: 'e', input: 'x' });
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(3);
    expect(client.activeEndpoint).toBe('fallback');
  });

  it('images.generate, embeddings and responses.create', async () => {
    const { client, fallback } = await failing();
    const image = await client.images.generate({ model: 'dall-e-3', prompt: 'a cat' });
    expect(image.data?.[0]?.url).toBe('https://example.invalid/fallback.png');
    const embedding = await client.embeddings.create({ model: 'e', input: 'x' });
    expect(embedding.data[0]!.embedding).toHaveLength(3);
    expect(embedding.data[0]!.embedding[0]).toBeCloseTo(0.1);
    const response = await client.responses.create({ model: 'gpt-test', input: 'hi' });
    expect(response.output_text).toBe('hello from fallback');
    expect(fallback.count()).toBe(3);
  });

  it('.withResponse(), .asResponse() and _request_id', async () => {
    const { client } = await failing();
    const { data, response, request_id } = await client.chat.completions.create(chat).withResponse();
    expect(data.choices[0]!.message.content).toBe('hello from fallback');
    expect(response.status).toBe(200);
    expect(request_id).toBe('req_fallback_1');
    const raw = await client.chat.completions.create(chat).asResponse();
    expect(raw.status).toBe(200);
    expect(((await raw.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('hello from fallback');
  });

  it('the Response of a non-streaming call reads like a fresh one, although its body was read inside the attempt', async () => {
    const { client } = await failing();
    const raw = await client.chat.completions.create(chat).asResponse();
    expect(raw).toBeInstanceOf(Response);
    expect(raw.bodyUsed).toBe(false);
    expect(raw.url).toMatch(/\/chat\/completions$/);
    const text = await raw.clone().text();
    expect(JSON.parse(text)).toMatchObject({ object: 'chat.completion' });
    expect(new TextDecoder().decode(await raw.arrayBuffer())).toBe(text);
    expect(await (await raw.blob()).text()).toBe(text);
    expect(await new Response(raw.body).text()).toBe(text);
    expect(((await raw.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content).toBe('hello from fallback');
    const { response } = await client.embeddings.create({ model: 'e', input: 'x' }).withResponse();
    expect(response.headers.get('x-request-id')).toBe('req_fallback_2');
  });

  it('stream: true fails over before the stream is returned', async () => {
    const { client, primary, fallback } = await failing();
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    expect(await streamText(stream)).toBe('hello from fallback');
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(1);
  });

  it('break out of a stream aborts the request', async () => {
    const { client, fallback } = await failing();
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    for await (const _chunk of stream) break;
    expect(stream.controller.signal.aborted).toBe(true);
    expect(fallback.count()).toBe(1);
  });

  it('for await over models.list() and cursor pagination with later pages fetched through the wrapper', async () => {
    const { client, primary, fallback } = await failing();
    expect(await listEverything(client)).toEqual(ALL_PAGES);
    expect(batchCursors(fallback)).toEqual([undefined, 'batch_2', 'batch_4']);
    expect(primary.count('/batches')).toBe(0);
  });

  it('a stateful listing stays on its endpoint between pages, unless the call allows failover', async () => {
    const { client, primary, fallback } = await setup();
    const first = await client.batches.list();
    expect(primary.count('/batches')).toBe(1);
    primary.setFault({ kind: 'bad-gateway' });
    // Batches live on one backend: the next page is retried on the primary, never asked of the fallback.
    await expect(first.getNextPage()).rejects.toMatchObject({ status: 502 });
    expect(primary.count('/batches')).toBe(4);
    expect(fallback.count('/batches')).toBe(0);

    const fresh = await setup();
    const allowed = await fresh.client.batches.list({}, withFailover('allow'));
    expect(fresh.primary.count('/batches')).toBe(1);
    fresh.primary.setFault({ kind: 'bad-gateway' });
    const second = await allowed.getNextPage();
    expect(second.data.map((b) => b.id)).toEqual(['batch_3', 'batch_4']);
    expect(fresh.fallback.count('/batches')).toBe(1);
    // The override header is ours: it never reaches an upstream.
    expect(fresh.fallback.requests[0]!.headers['x-resilient-failover']).toBeUndefined();
  });

  it('chat.completions.stream(), .parse() and runTools()', async () => {
    const { client, primary, fallback } = await failing();
    const stream = client.chat.completions.stream(chat);
    expect(await stream.finalContent()).toBe('hello from fallback');
    const parsed = await client.chat.completions.parse({
      ...chat,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'a', schema: { type: 'object', properties: { answer: { type: 'string' } } } },
      },
    });
    expect(parsed.choices[0]!.message.parsed).toEqual({ answer: 'hello from fallback' });
    const runner = client.chat.completions.runTools({
      ...chat,
      tools: [
        {
          type: 'function',
          function: { name: 'weather', description: 'weather', parameters: { type: 'object', properties: {} }, function: () => 'sunny' },
        },
      ],
    });
    expect(await runner.finalContent()).toBe('tool result was: sunny (from fallback)');
    expect(primary.count()).toBe(1);
    expect(fallback.count('/chat/completions')).toBe(4);
  });

  it('responses.stream()', async () => {
    const { client } = await failing();
    const stream = client.responses.stream({ model: 'gpt-test', input: 'hi' });
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('hello from fallback');
  });

  it('a toFile upload to a stateless endpoint is re-sent on the fallback', async () => {
    const { client, primary, fallback } = await failing();
    const result = await client.audio.transcriptions.create({
      model: 'whisper-1',
      file: await toFile(Buffer.from('RIFF-audio'), 'clip.wav'),
    });
    expect(result.text).toBe('transcribed clip.wav (10 bytes) by fallback');
    expect(primary.count('/audio/transcriptions')).toBe(1);
    expect(fallback.requests[0]!.body).toContain('RIFF-audio');
  });

  it('typed 4xx errors are thrown as the SDK classes, without retry or failover', async () => {
    const { client, primary, fallback, events } = await setup();
    await expect(client.chat.completions.create(chat, { headers: { 'x-test-status': '400' } })).rejects.toBeInstanceOf(BadRequestError);
    await expect(client.get('/nothing-here')).rejects.toBeInstanceOf(NotFoundError);
    expect(primary.count()).toBe(2);
    expect(fallback.count()).toBe(0);
    expect(events.switched).toHaveLength(0);
    expect(events.retry).toHaveLength(0);
  });

  it('an aborted signal ends the call with APIUserAbortError', async () => {
    const { client, primary } = await setup();
    primary.setFault({ kind: 'hang' });
    const controller = new AbortController();
    const call = client.chat.completions.create(chat, { signal: controller.signal });
    await primary.received(1); // in flight
    controller.abort();
    await expect(call).rejects.toBeInstanceOf(APIUserAbortError);
    const pre = new AbortController();
    pre.abort();
    await expect(client.chat.completions.create(chat, { signal: pre.signal })).rejects.toBeInstanceOf(APIUserAbortError);
  });

  it('a long-lived signal shared by many calls collects no listeners, and still aborts a stream', async () => {
    const { client } = await failing();
    const shared = new AbortController();
    for (let i = 0; i < 20; i++) await client.chat.completions.create(chat, { signal: shared.signal });
    expect(getEventListeners(shared.signal, 'abort').length).toBeLessThanOrEqual(1);
  });

  it("aborting the caller's signal mid-stream ends the stream as the SDK does (quietly, no hang)", async () => {
    // An upstream that sends one chunk and then keeps the stream open.
    const open = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write(
        `data: ${JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: 'first' }, finish_reason: null }] })}\n\n`,
      );
    }).listen(0, '127.0.0.1');
    track({ close: () => (open.closeAllConnections(), open.close()) });
    await once(open, 'listening');
    const baseURL = `http://127.0.0.1:${(open.address() as AddressInfo).port}/v1`;
    const read = async (client: OpenAI) => {
      const controller = new AbortController();
      const stream = await client.chat.completions.create({ ...chat, stream: true }, { signal: controller.signal });
      const seen: string[] = [];
      for await (const chunk of stream) {
        seen.push(chunk.choices[0]!.delta.content ?? '');
        controller.abort();
      }
      return { seen, aborted: stream.controller.signal.aborted };
    };
    const resilient = track(clientFor(baseURL, { fallback: [] }));
    const plain = new OpenAI({ apiKey: PRIMARY_KEY, baseURL });
    expect(await read(resilient)).toEqual({ seen: ['first'], aborted: true });
    expect(await read(plain)).toEqual({ seen: ['first'], aborted: true });
  });

  it('per-request timeout, headers and maxRetries reach the upstream', async () => {
    const { client, primary, fallback } = await setup();
    primary.setFault({ kind: 'hang' });
    // A hang past the per-request timeout is a timeout on the primary: fail over at once.
    const completion = await client.chat.completions.create(chat, { timeout: 400, headers: { 'x-trace': 'abc' } });
    expect(completion.choices[0]!.message.content).toBe('hello from fallback');
    expect(fallback.requests[0]!.headers['x-trace']).toBe('abc');
    expect(fallback.requests[0]!.headers['x-stainless-timeout']).toBe('0');
    fallback.setFault({ kind: 'status', status: 500 });
    await expect(client.chat.completions.create(chat, { maxRetries: 0 })).rejects.toMatchObject({ status: 500 });
    expect(fallback.count()).toBe(2);
  });

  it('client.post() to a custom path', async () => {
    const { client, fallback } = await failing();
    const result = await client.post<{ ok: boolean; upstream: string; echo: unknown }>('/custom', { body: { x: 1 } });
    expect(result).toMatchObject({ ok: true, upstream: 'fallback', echo: { x: 1 } });
    expect(fallback.count('/custom')).toBe(1);
  });

  it('an AzureOpenAI instance as the fallback', async () => {
    const primary = await upstream('primary');
    const azure = await upstream('azure');
    primary.setFault({ kind: 'bad-gateway' });
    const client = track(
      clientFor(primary, {
        fallback: new AzureOpenAI({ endpoint: azure.origin, apiKey: 'azure-key-123456', apiVersion: '2024-10-21', deployment: 'dep' }),
      }),
    );
    const completion = await client.chat.completions.create(chat);
    expect(completion.choices[0]!.message.content).toBe('hello from azure');
    const request = azure.requests[0]!;
    expect(request.path).toBe('/openai/deployments/dep/chat/completions');
    expect(request.query['api-version']).toBe('2024-10-21');
    expect(request.headers['api-key']).toBe('azure-key-123456');
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    expect(await streamText(stream)).toBe('hello from azure');
  });
});
