// `client.fetch` is the SDK's own transport property: the SDK reads it, its `withOptions()` copies
// it, helpers and host libraries copy or call it. None of them may break or loop because on a
// ResilientOpenAI it is the resilient fetch. Loopback upstreams throughout; a loop would show as
// extra requests (every count below is exact) or as a call that never settles (the test timeout).
import OpenAI, { InternalServerError, NotFoundError, toFile } from 'openai';
import { wrapOpenAI } from 'langsmith/wrappers/openai';
import { describe, expect, it } from 'vitest';
import { ResilientOpenAI } from '../../src/index.js';
import { chat, FALLBACK_KEY, PRIMARY_KEY, setup, storedSetup, track, upstream } from '../support/harness.js';
import { batchCursors, streamText } from '../support/sdk-calls.js';
import { CHAT_URL, countFetchReads, fetchOf, post } from './support.js';

// langsmith's wrapper traces only when told to: never here, so nothing leaves the machine.
process.env.LANGSMITH_TRACING = 'false';
delete process.env.LANGCHAIN_TRACING_V2;
delete process.env.LANGCHAIN_TRACING;

type Fetch = typeof globalThis.fetch;

async function failing() {
  const ctx = await setup();
  ctx.primary.setFault({ kind: 'bad-gateway' });
  return ctx;
}

/** What LangChain builds internally: an SDK client of its own, for its own base URL, over the fetch it was given. */
const plainOver = (fetch: Fetch) => new OpenAI({ apiKey: 'unused', baseURL: 'https://api.openai.com/v1', fetch, maxRetries: 0 });

const contentOf = async (response: Response) =>
  ((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;

describe('client.fetch, the property', () => {
  it('is an own enumerable, writable function, the same on every read, not the global fetch, one per client', async () => {
    const { client } = await setup();
    const other = track(new ResilientOpenAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1', fallback: [], healthCheck: false }));
    const f = fetchOf(client);
    expect(typeof f).toBe('function');
    expect(Object.getOwnPropertyDescriptor(client, 'fetch')).toEqual({ value: f, writable: true, enumerable: true, configurable: true });
    expect(Object.keys(client)).toContain('fetch');
    expect(fetchOf(client)).toBe(f);
    expect(fetchOf(client)).toBe(fetchOf(client));
    expect(f).not.toBe(globalThis.fetch);
    expect(fetchOf(other)).not.toBe(f);
    expect(Object.getOwnPropertyDescriptor(ResilientOpenAI.prototype, 'fetch')).toBeUndefined();
  });

  it('called unbound (and with an undefined this, as the SDK calls it) fails over to the fallback', async () => {
    const { client, primary, fallback, events } = await failing();
    const f = fetchOf(client);
    const response = await f(CHAT_URL, post(chat));
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req_fallback_1');
    expect(await contentOf(response)).toBe('hello from fallback');
    const again = await f.call(undefined, CHAT_URL, post(chat));
    expect(await contentOf(again)).toBe('hello from fallback');
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(2);
    expect(fallback.count('/chat/completions')).toBe(2);
    expect(events.switched).toHaveLength(1);
    // Each endpoint got its own key, never what the caller of fetch() sent.
    expect(primary.requests[0]!.headers.authorization).toBe(`Bearer ${PRIMARY_KEY}`);
    expect(fallback.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${FALLBACK_KEY}`, `Bearer ${FALLBACK_KEY}`]);
  });
});

describe('a plain OpenAI client whose fetch is client.fetch (what LangChain builds), the primary answering 502', () => {
  it('chat.completions.create: answered by the fallback, with the endpoints’ keys, not the plain client’s', async () => {
    const { client, primary, fallback } = await failing();
    const plain = plainOver(fetchOf(client));
    const completion = await plain.chat.completions.create(chat);
    expect(completion.choices[0]!.message.content).toBe('hello from fallback');
    expect(completion._request_id).toBe('req_fallback_1');
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(1);
    expect(primary.requests[0]!.headers.authorization).toBe(`Bearer ${PRIMARY_KEY}`);
    expect(fallback.requests[0]!.headers.authorization).toBe(`Bearer ${FALLBACK_KEY}`);
    expect(fallback.requests[0]!.json).toEqual(chat);
  });

  it('a chat stream, iterated', async () => {
    const { client, primary, fallback } = await failing();
    const stream = await plainOver(fetchOf(client)).chat.completions.create({ ...chat, stream: true });
    expect(await streamText(stream)).toBe('hello from fallback');
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(1);
    expect(fallback.requests[0]!.json).toEqual({ ...chat, stream: true });
  });

  it('responses.create and embeddings.create', async () => {
    const { client, primary, fallback } = await failing();
    const plain = plainOver(fetchOf(client));
    const response = await plain.responses.create({ model: 'gpt-test', input: 'hi' });
    expect(response.output_text).toBe('hello from fallback');
    const embedding = await plain.embeddings.create({ model: 'e', input: ['x', 'y'] });
    expect(embedding.data.map((d) => d.index)).toEqual([0, 1]);
    expect(embedding.data[0]!.embedding).toHaveLength(3);
    expect(primary.count()).toBe(1);
    expect(primary.count('/responses')).toBe(1);
    expect(fallback.count('/responses')).toBe(1);
    expect(fallback.count('/embeddings')).toBe(1);
    expect(fallback.count()).toBe(2);
  });

  it('models.list() and batches.list({ limit: 2 }) auto-paginate: every page once, the cursors in order', async () => {
    const { client, primary, fallback } = await failing();
    const plain = plainOver(fetchOf(client));
    const models: string[] = [];
    for await (const model of plain.models.list()) models.push(model.id);
    expect(models).toEqual(['model-a', 'model-b']);
    const batches: string[] = [];
    for await (const batch of plain.batches.list({ limit: 2 })) batches.push(batch.id);
    expect(batches).toEqual(['batch_1', 'batch_2', 'batch_3', 'batch_4', 'batch_5']);
    expect(primary.count()).toBe(1);
    expect(primary.count('/models')).toBe(1);
    expect(fallback.count('/models')).toBe(1);
    expect(fallback.count('/batches')).toBe(3);
    expect(batchCursors(fallback)).toEqual([undefined, 'batch_2', 'batch_4']);
    expect(fallback.requests.filter((r) => r.path.endsWith('/batches')).map((r) => r.query.limit)).toEqual(['2', '2', '2']);
  });

  it('a multipart upload (audio.transcriptions.create with toFile) is sent again, whole, to the fallback', async () => {
    const { client, primary, fallback } = await failing();
    const result = await plainOver(fetchOf(client)).audio.transcriptions.create({
      file: await toFile(Buffer.from('abc'), 'a.wav'),
      model: 'whisper-1',
    });
    expect(result.text).toBe('transcribed a.wav (3 bytes) by fallback');
    expect(primary.count('/audio/transcriptions')).toBe(1);
    expect(fallback.count('/audio/transcriptions')).toBe(1);
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(1);
    expect(String(fallback.requests[0]!.headers['content-type'])).toMatch(/^multipart\/form-data; boundary=/);
  });

  it('files (stateful): a create stays on the 502 primary, as an SDK call does; then the whole lifecycle on the fallback', async () => {
    const { client, primary, fallback } = await storedSetup();
    primary.setFault({ kind: 'bad-gateway' });
    const plain = plainOver(fetchOf(client));
    const file = async () => toFile(Buffer.from('{"custom_id":"1"}\n'), 'in.jsonl');
    // Files live where they were created: the create is retried on the primary, never sent elsewhere.
    const refused = await plain.files.create({ file: await file(), purpose: 'batch' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(InternalServerError);
    expect((refused as InternalServerError).status).toBe(502);
    expect(primary.count('/files')).toBe(3);
    expect(fallback.count()).toBe(0);
    expect(client.activeEndpoint).toBe('fallback');
    // The primary is out: the next calls go to the fallback, where the file then lives.
    const created = await plain.files.create({ file: await file(), purpose: 'batch' });
    expect(created).toMatchObject({ id: 'file-fallback-1', object: 'file', filename: 'in.jsonl', bytes: 18, purpose: 'batch' });
    expect(await plain.files.retrieve(created.id)).toMatchObject({ id: 'file-fallback-1', filename: 'in.jsonl' });
    const content = await plain.files.content(created.id);
    expect(await content.text()).toBe('content of file-fallback-1 from fallback');
    const listed: string[] = [];
    for await (const listedFile of plain.files.list()) listed.push(listedFile.id);
    expect(listed).toEqual(['file-fallback-1']);
    expect(await plain.files.delete(created.id)).toEqual({ id: 'file-fallback-1', object: 'file.deleted', deleted: true });
    expect(fallback.stored!.ids('file')).toEqual([]);
    expect(primary.count()).toBe(3);
    expect(fallback.requests.map((r) => `${r.method} ${r.path}`)).toEqual([
      'POST /v1/files',
      'GET /v1/files/file-fallback-1',
      'GET /v1/files/file-fallback-1/content',
      'GET /v1/files',
      'DELETE /v1/files/file-fallback-1',
    ]);
  });

  it('.withResponse() gives the upstream’s Response and request id', async () => {
    const { client, primary, fallback } = await failing();
    const { data, response, request_id } = await plainOver(fetchOf(client)).chat.completions.create(chat).withResponse();
    expect(data.choices[0]!.message.content).toBe('hello from fallback');
    expect(response).toBeInstanceOf(Response);
    expect(response.status).toBe(200);
    expect(response.headers.get('x-request-id')).toBe('req_fallback_1');
    expect(request_id).toBe('req_fallback_1');
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(1);
  });

  it('both upstreams answering 404: the plain client throws NotFoundError (a 404 does not fail over)', async () => {
    const { client, primary, fallback } = await setup();
    primary.setFault({ kind: 'status', status: 404 });
    fallback.setFault({ kind: 'status', status: 404 });
    const error = await plainOver(fetchOf(client))
      .chat.completions.create(chat)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).status).toBe(404);
    expect((error as NotFoundError).message).toBe('404 Injected 404 from primary');
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(0);
  });

  it('the primary 502 and the fallback 404: NotFoundError from the fallback, each asked once', async () => {
    const { client, primary, fallback } = await failing();
    fallback.setFault({ kind: 'status', status: 404 });
    const error = await plainOver(fetchOf(client))
      .chat.completions.create(chat)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NotFoundError);
    expect((error as NotFoundError).status).toBe(404);
    expect((error as NotFoundError).message).toBe('404 Injected 404 from fallback');
    expect((error as NotFoundError).requestID).toBe('req_fallback_1');
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(1);
  });
});

describe('withOptions() and client.fetch', () => {
  it('a derived client has a resilient fetch of its own, with its own defaults, on the shared endpoints', async () => {
    const { client, primary, fallback } = await failing();
    const derived = client.withOptions({ timeout: 5000, defaultHeaders: { 'x-derived': 'yes' } });
    const f = fetchOf(derived);
    expect(typeof f).toBe('function');
    expect(f).not.toBe(fetchOf(client));
    expect(f).not.toBe(globalThis.fetch);
    expect(fetchOf(derived)).toBe(f);
    expect(Object.getOwnPropertyDescriptor(derived, 'fetch')).toEqual({ value: f, writable: true, enumerable: true, configurable: true });
    const response = await f(CHAT_URL, post(chat));
    expect(await contentOf(response)).toBe('hello from fallback');
    // The parent's fetch: the shared router already left the primary; no header of the derived client.
    expect(await contentOf(await fetchOf(client)(CHAT_URL, post(chat)))).toBe('hello from fallback');
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(2);
    expect(primary.requests[0]!.headers['x-derived']).toBe('yes');
    expect(fallback.requests.map((r) => r.headers['x-derived'])).toEqual(['yes', undefined]);
  });

  it('SDK calls through the derived client and through a plain client over its fetch', async () => {
    const { client, primary, fallback } = await failing();
    const derived = client.withOptions({ timeout: 5000 });
    expect((await derived.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from fallback');
    expect(await streamText(await derived.chat.completions.create({ ...chat, stream: true }))).toBe('hello from fallback');
    expect((await plainOver(fetchOf(derived)).responses.create({ model: 'gpt-test', input: 'hi' })).output_text).toBe(
      'hello from fallback',
    );
    expect(primary.count()).toBe(1);
    expect(fallback.count('/chat/completions')).toBe(2);
    expect(fallback.count('/responses')).toBe(1);
    expect(fallback.count()).toBe(3);
  });

  it('our withOptions() refuses `fetch`: a transport is an endpoint setting', async () => {
    const { client, primary, fallback } = await setup();
    expect(() => client.withOptions({ fetch: fetchOf(client) })).toThrow(
      new TypeError(
        'resilient-openai: withOptions() cannot change `fetch`; it accepts timeout, maxRetries, defaultHeaders, defaultQuery, fetchOptions. Create a new ResilientOpenAI for other endpoint settings',
      ),
    );
    expect(primary.count() + fallback.count()).toBe(0);
  });

  it('openai’s own withOptions() on our client: a new ResilientOpenAI whose primary transport is the parent’s fetch; no loop', async () => {
    const { client, primary, fallback } = await failing();
    // The base implementation: `new this.constructor({ ...this._options, baseURL, ..., fetch: this.fetch, ...options })`.
    const derived = track(OpenAI.prototype.withOptions.call(client, { timeout: 1000 }) as ResilientOpenAI);
    expect(derived).toBeInstanceOf(ResilientOpenAI);
    expect(derived.baseURL).toBe(primary.url);
    expect(derived.timeout).toBe(1000);
    expect(fetchOf(derived)).not.toBe(fetchOf(client));
    expect(fetchOf(derived)).not.toBe(globalThis.fetch);
    const completion = await derived.chat.completions.create(chat);
    expect(completion.choices[0]!.message.content).toBe('hello from fallback');
    expect(completion._request_id).toBe('req_fallback_1');
    // The parent routed the call (its primary failed, its fallback answered); for the derived client
    // that was its primary answering.
    expect(client.activeEndpoint).toBe('fallback');
    expect(derived.activeEndpoint).toBe('primary');
    // Its own resilient fetch goes the same way, once per call.
    expect(await contentOf(await fetchOf(derived)(CHAT_URL, post(chat)))).toBe('hello from fallback');
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(2);
    expect(fallback.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${FALLBACK_KEY}`, `Bearer ${FALLBACK_KEY}`]);
  });
});

describe('SDK helpers on the client itself', () => {
  it('chat.completions.stream(), responses.stream() and runTools() never read client.fetch', async () => {
    const { client, primary, fallback } = await failing();
    const reads = countFetchReads(client);
    const chatStream = client.chat.completions.stream(chat);
    expect((await chatStream.finalChatCompletion()).choices[0]!.message.content).toBe('hello from fallback');
    const responseStream = client.responses.stream({ model: 'gpt-test', input: 'hi' });
    expect((await responseStream.finalResponse()).output_text).toBe('hello from fallback');
    const runner = client.chat.completions.runTools({
      ...chat,
      tools: [
        {
          type: 'function',
          function: {
            name: 'weather',
            description: 'the weather',
            parameters: { type: 'object', properties: { city: { type: 'string' } } },
            function: (args: string) => `sunny in ${(JSON.parse(args) as { city: string }).city}`,
          },
        },
      ],
    });
    expect(await runner.finalContent()).toBe('tool result was: sunny in Paris (from fallback)');
    expect(reads()).toBe(0);
    expect(primary.count()).toBe(1);
    expect(fallback.count('/responses')).toBe(1);
    // The stream, then runTools' tool call and its answer.
    expect(fallback.count('/chat/completions')).toBe(3);
    expect(fallback.count()).toBe(4);
  });

  it('fetchWithTimeout(), the SDK method that calls this.fetch, sends through the resilient fetch', async () => {
    const { client, primary, fallback } = await failing();
    const reads = countFetchReads(client);
    const response = await client.fetchWithTimeout(CHAT_URL, post(chat), 5000, new AbortController());
    expect(response.status).toBe(200);
    expect(await contentOf(response)).toBe('hello from fallback');
    expect(reads()).toBe(1);
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(1);
    expect(fallback.requests[0]!.headers.authorization).toBe(`Bearer ${FALLBACK_KEY}`);
  });

  it('openai’s own request() on our client sends through client.fetch, and so through the endpoints, once', async () => {
    const { client, primary, fallback } = await failing();
    const reads = countFetchReads(client);
    const completion = (await OpenAI.prototype.request.call(client, {
      method: 'post',
      path: '/chat/completions',
      body: chat,
    })) as OpenAI.Chat.Completions.ChatCompletion;
    expect(completion.choices[0]!.message.content).toBe('hello from fallback');
    expect(reads()).toBe(1);
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(1);
  });
});

describe('langsmith’s wrapOpenAI(client), tracing off', () => {
  it('chat create and a chat stream fail over to the fallback', async () => {
    const { client, primary, fallback } = await failing();
    const traced = wrapOpenAI(client);
    const completion = await traced.chat.completions.create(chat);
    expect(completion.choices[0]!.message.content).toBe('hello from fallback');
    const stream = await traced.chat.completions.create({ ...chat, stream: true });
    expect(await streamText(stream)).toBe('hello from fallback');
    expect(primary.count()).toBe(1);
    expect(fallback.count('/chat/completions')).toBe(2);
    expect(fallback.count()).toBe(2);
  });

  it('copies client.fetch with its own properties: the same resilient fetch, working; withOptions (a prototype method) is not copied', async () => {
    const { client, primary, fallback } = await failing();
    const traced = wrapOpenAI(client);
    const f = (traced as unknown as { fetch: Fetch }).fetch;
    expect(f).toBe(fetchOf(client));
    expect(await contentOf(await f(CHAT_URL, post(chat)))).toBe('hello from fallback');
    // `{ ...client }`: a plain object, so no prototype method, withOptions included.
    expect(Object.getPrototypeOf(traced)).toBe(Object.prototype);
    expect((traced as unknown as { withOptions?: unknown }).withOptions).toBeUndefined();
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(1);
  });
});

/** A ResilientOpenAI whose primary's transport is `inner`'s resilient fetch, with a fallback of its own. */
const outerOver = (inner: ResilientOpenAI, outerFallback: { url: string }) =>
  new ResilientOpenAI({
    apiKey: 'sk-outer-primary',
    baseURL: 'https://api.openai.com/v1',
    fetch: fetchOf(inner),
    fallback: { apiKey: 'sk-outer-fallback', baseURL: outerFallback.url },
    healthCheck: false,
    retry: { initialDelayMs: 1, maxDelayMs: 5 },
  });

describe('clients chained through client.fetch', () => {
  it('an outer ResilientOpenAI whose primary fetch is the inner client’s: calls reach the upstreams once, no loop', async () => {
    const { client: inner, primary, fallback } = await failing();
    const outerFallback = await upstream('outer-fallback');
    const outer = track(outerOver(inner, outerFallback));
    expect((await outer.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from fallback');
    expect(await streamText(await outer.chat.completions.create({ ...chat, stream: true }))).toBe('hello from fallback');
    expect((await outer.responses.create({ model: 'gpt-test', input: 'hi' })).output_text).toBe('hello from fallback');
    // And the outer client's own fetch: through the outer endpoints, then the inner ones.
    expect(await contentOf(await fetchOf(outer)(CHAT_URL, post(chat)))).toBe('hello from fallback');
    expect(primary.count()).toBe(1);
    expect(fallback.count('/chat/completions')).toBe(3);
    expect(fallback.count('/responses')).toBe(1);
    expect(fallback.count()).toBe(4);
    expect(outerFallback.count()).toBe(0);
    expect(outer.activeEndpoint).toBe('primary');
    expect(inner.activeEndpoint).toBe('fallback');
    // The outer client's key never went past the inner client.
    expect(fallback.requests.map((r) => r.headers.authorization)).toEqual(Array(4).fill(`Bearer ${FALLBACK_KEY}`));
  });

  it('every inner upstream failing: the outer client gets the inner one’s last 502 and fails over to its own fallback', async () => {
    const { client: inner, primary, fallback } = await failing();
    fallback.setFault({ kind: 'bad-gateway' });
    const outerFallback = await upstream('outer-fallback');
    const outer = track(outerOver(inner, outerFallback));
    expect((await outer.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from outer-fallback');
    // The inner call's three attempts (primary, fallback, primary again), then the outer failover.
    expect(primary.count()).toBe(2);
    expect(fallback.count()).toBe(1);
    expect(outerFallback.count()).toBe(1);
    expect(outerFallback.requests[0]!.headers.authorization).toBe('Bearer sk-outer-fallback');
    expect(outer.activeEndpoint).toBe('fallback');
  });

  it('a plain OpenAI over the inner client’s fetch as the outer client’s fallback', async () => {
    const { client: inner, primary, fallback } = await failing();
    const outerPrimary = await upstream('outer-primary');
    outerPrimary.setFault({ kind: 'bad-gateway' });
    const outer = track(
      new ResilientOpenAI({
        apiKey: 'sk-outer-primary',
        baseURL: outerPrimary.url,
        fallback: new OpenAI({ apiKey: 'x', baseURL: 'https://api.openai.com/v1', fetch: fetchOf(inner) }),
        healthCheck: false,
        retry: { initialDelayMs: 1, maxDelayMs: 5 },
      }),
    );
    expect((await outer.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from fallback');
    expect((await outer.embeddings.create({ model: 'e', input: 'x' })).data).toHaveLength(1);
    expect(outerPrimary.count()).toBe(1);
    expect(primary.count()).toBe(1);
    expect(fallback.count('/chat/completions')).toBe(1);
    expect(fallback.count('/embeddings')).toBe(1);
    expect(fallback.count()).toBe(2);
    expect(outer.activeEndpoint).toBe('fallback');
    expect(fallback.requests.map((r) => r.headers.authorization)).toEqual([`Bearer ${FALLBACK_KEY}`, `Bearer ${FALLBACK_KEY}`]);
  });
});
