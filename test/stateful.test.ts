import { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { isStatefulRequest, ResilientOpenAI, withFailover } from '../src/index.js';
import { chat, clientFor, fallbackOn, setup, track, upstream } from './support/harness.js';

describe('isStatefulRequest', () => {
  const cases: [string, string, unknown, boolean][] = [
    ['post', '/chat/completions', { model: 'm' }, false],
    ['get', '/chat/completions', undefined, true],
    ['get', '/chat/completions/chatcmpl_1', undefined, true],
    ['post', '/completions', {}, false],
    ['post', '/embeddings', {}, false],
    ['post', '/images/generations', {}, false],
    ['post', '/audio/transcriptions', new FormData(), false],
    ['post', '/moderations', {}, false],
    ['post', '/responses', { model: 'm', input: 'x' }, false],
    ['post', '/responses', { model: 'm', previous_response_id: 'resp_1' }, true],
    ['post', '/responses', { model: 'm', conversation: 'conv_1' }, true],
    ['get', '/responses/resp_1', undefined, true],
    ['post', '/files', new FormData(), true],
    ['get', '/files/file_1/content', undefined, true],
    ['post', '/uploads', {}, true],
    ['get', '/batches', undefined, true],
    ['post', '/fine_tuning/jobs', {}, true],
    ['post', '/threads/thread_1/runs', {}, true],
    ['post', '/vector_stores', {}, true],
    ['post', '/containers', {}, true],
    ['post', '/conversations', {}, true],
    ['get', '/models', undefined, false],
    ['get', '/models/gpt-4o', undefined, false],
    ['delete', '/models/ft:gpt-4o:me', undefined, true],
    ['post', '/custom', {}, false],
  ];
  for (const [method, path, body, expected] of cases) {
    it(`${method.toUpperCase()} ${path}${body && typeof body === 'object' && !(body instanceof FormData) && Object.keys(body).length > 1 ? ` ${JSON.stringify(body)}` : ''} → ${expected ? 'stays' : 'may fail over'}`, () => {
      expect(isStatefulRequest({ method, path, body })).toBe(expected);
    });
  }
});

describe('stateful calls stay on their endpoint', () => {
  it('files.list with the primary failing: retried on the primary only, never sent to the fallback', async () => {
    const { client, primary, fallback, events } = await setup();
    primary.setFault({ kind: 'bad-gateway' });
    await expect(client.files.list()).rejects.toMatchObject({ status: 502 });
    expect(primary.count('/files')).toBe(3);
    expect(fallback.count()).toBe(0);
    expect(events.retry.map((e) => e.endpoint)).toEqual(['primary', 'primary']);
    // The breaker still learned from it: ordinary traffic has moved on.
    expect(client.activeEndpoint).toBe('fallback');
  });

  it('responses.create with previous_response_id stays; without it, it fails over', async () => {
    const { client, primary, fallback } = await setup({ breaker: { failureThreshold: 10 } });
    primary.setFault({ kind: 'bad-gateway' });
    await expect(client.responses.create({ model: 'gpt-test', input: 'more', previous_response_id: 'resp_1' })).rejects.toMatchObject({
      status: 502,
    });
    expect(fallback.count()).toBe(0);
    expect((await client.responses.create({ model: 'gpt-test', input: 'hi' })).output_text).toBe('hello from fallback');
  });

  it("failover: { stateful: 'failover' } lets them fail over; a function decides per call", async () => {
    const { client, primary, fallback } = await setup({ failover: { stateful: 'failover' } });
    primary.setFault({ kind: 'bad-gateway' });
    await client.batches.list();
    expect(fallback.count('/batches')).toBe(1);

    const seen: string[] = [];
    const custom = await setup({
      failover: { stateful: (request) => (seen.push(`${request.method} ${request.path}`), request.path === '/chat/completions') },
    });
    custom.primary.setFault({ kind: 'bad-gateway' });
    await expect(custom.client.chat.completions.create(chat)).rejects.toMatchObject({ status: 502 });
    expect(custom.fallback.count()).toBe(0);
    expect(seen).toEqual(['post /chat/completions']);
    void primary;
  });

  it("withFailover('deny') keeps a stateless call on its endpoint; 'allow' frees a stateful one", async () => {
    const { client, primary, fallback } = await setup({ breaker: { failureThreshold: 10 } });
    primary.setFault({ kind: 'bad-gateway' });
    await expect(client.chat.completions.create(chat, withFailover('deny'))).rejects.toMatchObject({ status: 502 });
    expect(fallback.count()).toBe(0);
    const page = await client.batches.list({}, withFailover('allow', { headers: { 'x-trace': 't1' } }));
    expect(page.data).toHaveLength(2);
    expect(fallback.requests[0]!.headers['x-trace']).toBe('t1');
    expect(fallback.requests[0]!.headers['x-resilient-failover']).toBeUndefined();
    expect(() => withFailover('sometimes' as never)).toThrow(/'allow' or 'deny', got "sometimes"/);
  });
});

describe('per-endpoint model mapping', () => {
  it('maps model names per endpoint, as a map or a function, in JSON and multipart bodies', async () => {
    const primary = await upstream('primary');
    const fallback = await upstream('fallback');
    const client = track(
      clientFor(primary, {
        models: (model) => `proxy/${model}`,
        fallback: { ...fallbackOn(fallback), models: { 'gpt-test': 'gpt-4o-mini', 'whisper-1': 'whisper-large' } },
      }),
    );
    await client.chat.completions.create(chat);
    expect(primary.requests[0]!.json).toMatchObject({ model: 'proxy/gpt-test' });
    primary.setFault({ kind: 'bad-gateway' });
    const completion = await client.chat.completions.create(chat);
    expect(completion.choices[0]!.message.content).toBe('hello from fallback');
    expect(fallback.requests[0]!.json).toMatchObject({ model: 'gpt-4o-mini' });
    await client.embeddings.create({ model: 'text-embedding-3-small', input: 'x' });
    expect(fallback.requests[1]!.json).toMatchObject({ model: 'text-embedding-3-small' }); // not in the map: unchanged
    await client.audio.transcriptions.create({ model: 'whisper-1', file: await toFile(Buffer.from('abc'), 'a.wav') });
    expect(fallback.requests[2]!.body).toMatch(/name="model"\r\n\r\nwhisper-large\r\n/);
  });

  it('rejects a bad map at construction', () => {
    expect(() => new ResilientOpenAI({ apiKey: 'sk-x-123456', healthCheck: false, models: { a: '' } })).toThrow(
      /`models\["a"\]` to be a non-empty model name, got ""/,
    );
    expect(() => new ResilientOpenAI({ apiKey: 'sk-x-123456', healthCheck: false, fallback: { models: 5 as never } })).toThrow(
      /`fallback\.models` to be a map of model names or a function, got 5/,
    );
  });
});
