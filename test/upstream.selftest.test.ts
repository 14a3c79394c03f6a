import { describe, it, expect, afterEach } from 'vitest';
import OpenAI, { AzureOpenAI, toFile } from 'openai';
import { ALL_PAGES, batchCursors, listEverything } from './support/sdk-calls.js';
import { gate, startUpstream, refusedURL, type Upstream } from './support/upstream.js';
import type { StreamFault } from './support/upstream/faults.js';
import { MARKER_TEXT } from './support/upstream/stream-edges.js';

const started: Upstream[] = [];
async function start(name = 'primary'): Promise<{ up: Upstream; client: OpenAI }> {
  const up = await startUpstream({ name });
  started.push(up);
  return { up, client: new OpenAI({ apiKey: 'sk-test', baseURL: up.url, maxRetries: 0 }) };
}
afterEach(async () => {
  await Promise.all(started.splice(0).map((u) => u.close()));
});

const chat = { model: 'gpt-test', messages: [{ role: 'user' as const, content: 'hi' }] };

/** A streaming chat request by plain fetch; `next()` reads one chunk of the raw body into `text`. */
async function rawStream(up: Upstream, body: Record<string, unknown> = {}) {
  const res = await fetch(`${up.url}/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ ...chat, stream: true, ...body }),
  });
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  const wire = {
    res,
    text: '',
    /** 'data', 'end', or the error the read failed with. */
    next: (): Promise<unknown> =>
      reader.read().then(
        ({ done, value }) => (done ? 'end' : ((wire.text += decoder.decode(value, { stream: true })), 'data')),
        (error: unknown) => error,
      ),
    /** Reads to the end of the body: how it ended. */
    async rest(): Promise<unknown> {
      for (;;) {
        const how = await wire.next();
        if (how !== 'data') return how;
      }
    },
    /** A read that is still pending after 150 ms (the connection is open and silent), to await after close(). */
    async silent(): Promise<{ pending: Promise<unknown> }> {
      const pending = wire.next();
      expect(await Promise.race([pending, new Promise((r) => setTimeout(r, 150, 'silent'))])).toBe('silent');
      return { pending };
    },
    /** The frames so far, split at the blank lines on the wire. */
    frames: () => wire.text.split('\n\n').filter(Boolean),
  };
  return wire;
}

/** A chat chunk frame's choice as [index, delta, finish_reason]. */
function choiceOf(frame: string): [number, unknown, unknown] {
  expect(frame.startsWith('data: ')).toBe(true);
  const choice = (JSON.parse(frame.slice('data: '.length)) as { choices: { index: number; delta: unknown; finish_reason: unknown }[] })
    .choices[0]!;
  return [choice.index, choice.delta, choice.finish_reason];
}

const CUT = { name: 'TypeError', message: 'terminated', cause: { code: 'UND_ERR_SOCKET' } };

describe('fake upstream: routes', () => {
  it('chat completion JSON + x-request-id + recording', async () => {
    const { up, client } = await start('primary');
    const res = await client.chat.completions.create(chat);
    expect(res.choices[0]?.message.content).toBe('hello from primary');
    expect(res.model).toBe('gpt-test');
    expect(res._request_id).toBe('req_primary_1');
    expect(up.count('/chat/completions')).toBe(1);
    const rec = up.requests[0];
    expect(rec?.method).toBe('POST');
    expect(rec?.path).toBe('/v1/chat/completions');
    expect(rec?.headers['authorization']).toBe('Bearer sk-test');
    expect(rec?.json).toMatchObject({ model: 'gpt-test' });
    expect(rec?.fault).toBeUndefined();
  });

  it('chat completion SSE stream and stream() helper', async () => {
    const { client } = await start('s1');
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    let text = '';
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      text += chunk.choices[0]?.delta.content ?? '';
    }
    expect(chunks).toBe(3);
    expect(text).toBe('hello from s1');
    const helper = client.chat.completions.stream({ ...chat, stream_options: { include_usage: true } });
    expect(await helper.finalContent()).toBe('hello from s1');
  });

  it('runTools, parse with json_schema', async () => {
    const { up, client } = await start('tools');
    const runner = client.chat.completions.runTools({
      ...chat,
      tools: [
        {
          type: 'function',
          function: {
            name: 'get_weather',
            description: 'Get the weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
            function: (args: string) => `sunny in ${(JSON.parse(args) as { city: string }).city}`,
          },
        },
      ],
    });
    expect(await runner.finalContent()).toBe('tool result was: sunny in Paris (from tools)');
    expect(up.count('/chat/completions')).toBe(2);

    const parsed = await client.chat.completions.parse({
      ...chat,
      response_format: {
        type: 'json_schema',
        json_schema: { name: 'a', schema: { type: 'object', properties: { answer: { type: 'string' } } } },
      },
    });
    expect(parsed.choices[0]?.message.parsed).toEqual({ answer: 'hello from tools' });
  });

  it('responses create + stream', async () => {
    const { client } = await start('r');
    const res = await client.responses.create({ model: 'gpt-test', input: 'hi' });
    expect(res.output_text).toBe('hello from r');
    const stream = client.responses.stream({ model: 'gpt-test', input: 'hi' });
    const deltas: string[] = [];
    stream.on('response.output_text.delta', (e) => deltas.push(e.delta));
    const final = await stream.finalResponse();
    expect(final.output_text).toBe('hello from r');
    expect(final.status).toBe('completed');
    expect(deltas.join('')).toBe('hello from r');
  });

  it('embeddings (base64 default and float), images, audio multipart', async () => {
    const { up, client } = await start('misc');
    const emb = await client.embeddings.create({ model: 'e', input: 'x' });
    expect(emb.data[0]?.embedding).toHaveLength(3);
    expect(emb.data[0]?.embedding[1]).toBeCloseTo(0.2, 5);
    expect((up.requests[0]?.json as { encoding_format?: string }).encoding_format).toBe('base64');
    const floats = await client.embeddings.create({ model: 'e', input: 'x', encoding_format: 'float' });
    expect(floats.data[0]?.embedding).toEqual([0.1, 0.2, 0.3]);

    const img = await client.images.generate({ model: 'dall-e-3', prompt: 'a cat' });
    expect(img.data?.[0]?.url).toBe('https://example.invalid/misc.png');
    expect(img.data?.[0]?.revised_prompt).toBe('a cat');

    const tr = await client.audio.transcriptions.create({
      model: 'whisper-1',
      file: await toFile(Buffer.from('abc'), 'a.wav'),
    });
    expect(tr.text).toBe('transcribed a.wav (3 bytes) by misc');
    expect(up.requests.at(-1)?.headers['content-type']).toMatch(/^multipart\/form-data/);
  });

  it('pagination: models and batches', async () => {
    const { up, client } = await start('pages');
    expect(await listEverything(client)).toEqual(ALL_PAGES);
    expect(batchCursors(up)).toEqual([undefined, 'batch_2', 'batch_4']);
  });

  it('custom route, 404, x-test-status', async () => {
    const { client } = await start('c');
    expect(await client.post('/custom', { body: { x: 1 } })).toEqual({ ok: true, upstream: 'c', echo: { x: 1 } });
    const nf = await client.get('/nope').catch((e: unknown) => e);
    expect(nf).toBeInstanceOf(OpenAI.NotFoundError);
    expect((nf as InstanceType<typeof OpenAI.APIError>).code).toBe('not_found');
    const bad = await client.chat.completions.create(chat, { headers: { 'x-test-status': '400' } }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(OpenAI.BadRequestError);
    expect((bad as InstanceType<typeof OpenAI.APIError>).requestID).toBe('req_c_3');
  });

  it('Azure deployment chat completions (JSON + SSE)', async () => {
    const { up } = await start('az');
    const az = new AzureOpenAI({ endpoint: up.origin, apiKey: 'az-key', apiVersion: '2024-10-21', deployment: 'dep', maxRetries: 0 });
    const res = await az.chat.completions.create(chat);
    expect(res.choices[0]?.message.content).toBe('hello from az');
    const rec = up.requests[0];
    expect(rec?.path).toBe('/openai/deployments/dep/chat/completions');
    expect(rec?.query['api-version']).toBe('2024-10-21');
    expect(rec?.headers['api-key']).toBe('az-key');
    const stream = await az.chat.completions.create({ ...chat, stream: true });
    let text = '';
    for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('hello from az');
  });
});

describe('fake upstream: faults', () => {
  it('bad-gateway → APIError 502 with HTML', async () => {
    const { up, client } = await start();
    up.queue({ kind: 'bad-gateway' });
    const err = await client.chat.completions.create(chat).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    const apiErr = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiErr.status).toBe(502);
    expect(apiErr.message).toContain('502 Bad Gateway');
    expect(apiErr.headers?.get('content-type')).toBe('text/html');
    expect(up.requests[0]?.fault).toBe('bad-gateway');
    // queue consumed: next request is normal
    expect((await client.chat.completions.create(chat)).choices[0]?.message.content).toBe('hello from primary');
  });

  it('status fault with custom body/headers, sticky setFault, reset()', async () => {
    const { up, client } = await start();
    up.setFault({ kind: 'status', status: 503, headers: { 'x-should-retry': 'false' } });
    for (let i = 0; i < 2; i++) {
      const err = await client.models.list().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.InternalServerError);
      expect((err as InstanceType<typeof OpenAI.APIError>).type).toBe('server_error');
    }
    up.queue({ kind: 'status', status: 418, body: 'teapot' });
    const tea = await client.models.list().catch((e: unknown) => e);
    expect((tea as InstanceType<typeof OpenAI.APIError>).status).toBe(418);
    up.setFault(null);
    expect((await client.models.list()).data).toHaveLength(2);
    expect(up.requests.map((r) => r.fault)).toEqual(['status', 'status', 'status', undefined]);
    up.reset();
    expect(up.count()).toBe(0);
    const res = await client.chat.completions.create(chat);
    expect(res._request_id).toBe('req_primary_1');
  });

  it('rate-limit → RateLimitError with headers', async () => {
    const { up, client } = await start();
    up.queue({ kind: 'rate-limit', retryAfter: '1', retryAfterMs: '50' });
    const err = await client.chat.completions.create(chat).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.RateLimitError);
    const apiErr = err as InstanceType<typeof OpenAI.RateLimitError>;
    expect(apiErr.headers?.get('retry-after')).toBe('1');
    expect(apiErr.headers?.get('retry-after-ms')).toBe('50');
    expect(apiErr.code).toBe('rate_limit_exceeded');
  });

  it('reset and refused → APIConnectionError', async () => {
    const { up, client } = await start();
    up.queue({ kind: 'reset' });
    const err = await client.chat.completions.create(chat).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(err).not.toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    expect(up.requests[0]?.fault).toBe('reset');
    expect(up.requests[0]?.json).toMatchObject({ model: 'gpt-test' });

    const refused = new OpenAI({ apiKey: 'sk-test', baseURL: await refusedURL(), maxRetries: 0 });
    const err2 = await refused.chat.completions.create(chat).catch((e: unknown) => e);
    expect(err2).toBeInstanceOf(OpenAI.APIConnectionError);
  });

  it('hang → APIConnectionTimeoutError; delay answers late', async () => {
    const { up, client } = await start();
    up.queue({ kind: 'hang' });
    const err = await client.chat.completions.create(chat, { timeout: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);

    up.queue({ kind: 'delay', ms: 150 });
    const t0 = Date.now();
    const res = await client.chat.completions.create(chat);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(140);
    expect(res.choices[0]?.message.content).toBe('hello from primary');
  });

  it('held answers once its gate opens; received() resolves as requests arrive', async () => {
    const { up, client } = await start();
    const held = gate();
    up.setFault({ kind: 'held', until: held.opened });
    // Held past the client's timeout: not answered while the gate is shut.
    const early = await client.chat.completions.create(chat, { timeout: 200 }).catch((e: unknown) => e);
    expect(early).toBeInstanceOf(OpenAI.APIConnectionTimeoutError);
    const later = client.models.list();
    await up.received(1, '/models');
    await up.received(2);
    expect(up.requests.map((r) => r.fault)).toEqual(['held', 'held']);
    held.open();
    expect((await later).data).toHaveLength(2);
    await up.received(2); // already there: resolves at once
  });

  it('cut-stream on SSE surfaces an error or early end; on JSON an error', async () => {
    const { up, client } = await start();
    up.queue({ kind: 'cut-stream', afterChunks: 1 });
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    let text = '';
    let failure: unknown;
    try {
      for await (const c of stream) text += c.choices[0]?.delta.content ?? '';
    } catch (e) {
      failure = e;
    }
    expect(text).toBe('hello ');
    // undici surfaces the cut body as a raw `TypeError: terminated` (cause: "other side closed");
    // the SDK does not wrap errors raised while reading the body into APIConnectionError.
    const cut = { name: 'TypeError', message: 'terminated', cause: { code: 'UND_ERR_SOCKET' } };
    expect(failure).toMatchObject(cut);

    up.queue({ kind: 'cut-stream', afterChunks: 3 });
    const rs = client.responses.stream({ model: 'gpt-test', input: 'hi' });
    const seen: string[] = [];
    rs.on('event', (e) => seen.push(e.type));
    await expect(rs.finalResponse()).rejects.toMatchObject({ message: 'terminated', cause: { name: 'TypeError' } });
    expect(seen).toEqual(['response.created', 'response.in_progress', 'response.output_item.added']);

    up.queue({ kind: 'cut-stream', afterChunks: 0 });
    await expect(client.chat.completions.create(chat)).rejects.toMatchObject(cut);
  });

  it('close() resolves promptly with a hung request open', async () => {
    const { up, client } = await start();
    up.setFault({ kind: 'hang' });
    const pending = client.chat.completions.create(chat, { timeout: 30_000 }).catch((e: unknown) => e);
    await up.received(1);
    const t0 = Date.now();
    await up.close();
    await up.close(); // idempotent
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(await pending).toBeInstanceOf(OpenAI.APIConnectionError);
  });
});

describe('fake upstream: stream faults (streaming requests only)', () => {
  it('marker-text-cut: a content chunk that mentions every marker, escaped by JSON, then the socket destroyed', async () => {
    const { up } = await start();
    up.queue({ kind: 'marker-text-cut' });
    const wire = await rawStream(up);
    expect(wire.res.headers.get('content-type')).toBe('text/event-stream');
    expect(await wire.rest()).toMatchObject(CUT);
    const frames = wire.frames();
    expect(frames).toHaveLength(3);
    expect(choiceOf(frames[0]!)).toEqual([0, { role: 'assistant', content: 'hello ' }, null]);
    expect(choiceOf(frames[1]!)).toEqual([0, { content: MARKER_TEXT }, null]);
    expect(frames[2]).toBe(': cut');
    // The markers are on the wire, inside the JSON string; never as a line of their own.
    expect(MARKER_TEXT).toMatch(/\[DONE\][\s\S]*"finish_reason":"stop"[\s\S]*\n\ndata: /);
    expect(wire.text).toContain('data: [DONE]');
    expect(wire.text).toContain('\\"finish_reason\\":\\"stop\\"');
    expect(wire.text.split('\n')).not.toContain('data: [DONE]');
    expect(up.requests[0]?.fault).toBe('marker-text-cut');
  });

  it('half-finished: two choices, one event every 10 ms; choice 0 finishes, choice 1 is cut', async () => {
    const { up } = await start();
    up.queue({ kind: 'half-finished' });
    const t0 = Date.now();
    const wire = await rawStream(up, { n: 2 });
    expect(await wire.rest()).toMatchObject(CUT);
    // Four events 10 ms apart, then the cut: no earlier than 40 ms after the request.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(35);
    const frames = wire.frames();
    expect(frames.slice(0, -1).map(choiceOf)).toEqual([
      [0, { role: 'assistant', content: 'hello ' }, null],
      [1, { role: 'assistant', content: 'hello ' }, null],
      [0, { content: 'from primary' }, 'stop'],
      [1, { content: 'from ' }, null],
    ]);
    expect(frames.at(-1)).toBe(': cut');
    expect(up.requests[0]?.json).toMatchObject({ n: 2, stream: true });
  });

  it('stall-after-output: one content chunk, then silence with the connection open until close()', async () => {
    const { up } = await start();
    up.queue({ kind: 'stall-after-output' });
    const wire = await rawStream(up);
    expect(await wire.next()).toBe('data');
    const { pending } = await wire.silent();
    expect(wire.frames().map(choiceOf)).toEqual([[0, { role: 'assistant', content: 'hello ' }, null]]);
    await up.close();
    expect(await pending).toMatchObject(CUT); // the connection was open: close() ended it
  });

  it('lifecycle-stall: a role-only chunk, then silence with the connection open until close()', async () => {
    const { up } = await start();
    up.queue({ kind: 'lifecycle-stall' });
    const wire = await rawStream(up);
    expect(await wire.next()).toBe('data');
    const { pending } = await wire.silent();
    expect(wire.frames().map(choiceOf)).toEqual([[0, { role: 'assistant', content: '' }, null]]);
    await up.close();
    expect(await pending).toMatchObject(CUT);
  });

  it('error-frame: an error frame first, or after one content chunk; then a clean end without [DONE]', async () => {
    const { up } = await start();
    const error = { message: 'Injected stream error from primary', type: 'server_error', param: null, code: null };
    up.queue({ kind: 'error-frame' }, { kind: 'error-frame', afterOutput: true });
    const first = await rawStream(up);
    expect(await first.rest()).toBe('end');
    expect(first.res.status).toBe(200);
    expect(first.text).toBe(`data: ${JSON.stringify({ error })}\n\n`);
    const after = await rawStream(up);
    expect(await after.rest()).toBe('end');
    const frames = after.frames();
    expect(frames).toHaveLength(2);
    expect(choiceOf(frames[0]!)).toEqual([0, { role: 'assistant', content: 'hello ' }, null]);
    expect(frames[1]).toBe(`data: ${JSON.stringify({ error })}`);
    expect(up.requests.map((r) => r.fault)).toEqual(['error-frame', 'error-frame']);
  });

  it('non-sse-200: a 200 HTML page without content-length, the connection left open until close()', async () => {
    const { up } = await start();
    up.queue({ kind: 'non-sse-200' });
    const wire = await rawStream(up);
    expect(wire.res.status).toBe(200);
    expect(wire.res.headers.get('content-type')).toBe('text/html');
    expect(wire.res.headers.get('content-length')).toBeNull();
    while (!wire.text.endsWith('</html>\n')) expect(await wire.next()).toBe('data');
    expect(wire.text).toMatch(/^<!DOCTYPE html>/);
    const { pending } = await wire.silent();
    await up.close();
    expect(await pending).toMatchObject(CUT);
  });

  it('a request that does not stream is answered normally, uses the fault up, and is not marked', async () => {
    const { up, client } = await start();
    const faults: StreamFault[] = [
      { kind: 'marker-text-cut' },
      { kind: 'half-finished' },
      { kind: 'stall-after-output' },
      { kind: 'lifecycle-stall' },
      { kind: 'error-frame' },
      { kind: 'error-frame', afterOutput: true },
      { kind: 'non-sse-200' },
    ];
    up.queue(...faults);
    const answers: (string | null | undefined)[] = [];
    for (let i = 0; i < faults.length; i++) answers.push((await client.chat.completions.create(chat)).choices[0]?.message.content);
    expect(answers).toEqual(faults.map(() => 'hello from primary'));
    expect(up.requests.map((r) => r.fault)).toEqual(faults.map(() => undefined));
    // Used up: a streaming request next gets the normal stream.
    const normal = await rawStream(up);
    expect(await normal.rest()).toBe('end');
    expect(normal.frames().at(-1)).toBe('data: [DONE]');
    // Positive control: a sticky stream fault skips a request that does not stream and applies to the next that does.
    up.setFault({ kind: 'error-frame' });
    expect((await client.models.list()).data).toHaveLength(2);
    const faulted = await rawStream(up);
    expect(await faulted.rest()).toBe('end');
    expect(faulted.text).toMatch(/^data: \{"error":/);
    expect(up.requests.slice(-3).map((r) => r.fault)).toEqual([undefined, undefined, 'error-frame']);
  });
});
