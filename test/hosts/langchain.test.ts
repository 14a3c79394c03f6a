// LangChain.js never takes an OpenAI client: `configuration: { fetch: client['fetch'] }` is how
// its calls get failover. Real `@langchain/openai` (its own openai 7 SDK inside) against loopback upstreams.
import type { AIMessageChunk } from '@langchain/core/messages';
import { tool } from '@langchain/core/tools';
import { concat } from '@langchain/core/utils/stream';
import { ChatOpenAI, OpenAIEmbeddings } from '@langchain/openai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { ResilientOpenAI } from '../../src/index.js';
import { setup } from '../support/harness.js';
import {
  BEFORE_NODE_22,
  counts,
  expectEndpointKeys,
  expectFailedOver,
  FAILING_PRIMARIES,
  failEverywhere,
  fetchOf,
  onFastClock,
  ONE_CALL,
} from './support.js';

// maxRetries: 0, as documented: the library's attempts are then the only ones.
const chatModel = (client: ResilientOpenAI, options: { useResponsesApi?: boolean; maxRetries?: number } = {}) =>
  new ChatOpenAI({ model: 'gpt-test', apiKey: 'unused', configuration: { fetch: fetchOf(client) }, maxRetries: 0, ...options });

const APIS = [
  { api: 'chat completions (the default)', path: '/chat/completions', useResponsesApi: false },
  { api: 'Responses (useResponsesApi)', path: '/responses', useResponsesApi: true },
];

const weather = tool(({ city }) => `sunny in ${city}`, {
  name: 'get_weather',
  description: 'The weather in a city',
  schema: z.object({ city: z.string() }),
});

// Node < 22: see BEFORE_NODE_22.
describe.skipIf(BEFORE_NODE_22)('LangChain.js through client.fetch', () => {
  describe.each(FAILING_PRIMARIES)('$name, the fallback answers', ({ start }) => {
    describe.each(APIS)('ChatOpenAI over $api', ({ path, useResponsesApi }) => {
      it('invoke', async () => {
        const ctx = await start();
        const message = await chatModel(ctx.client, { useResponsesApi }).invoke('hi');
        expect(message.text).toBe('hello from fallback');
        expectFailedOver(ctx, path);
      });

      it('stream, the chunks concatenated', async () => {
        const ctx = await start();
        let whole: AIMessageChunk | undefined;
        for await (const chunk of await chatModel(ctx.client, { useResponsesApi }).stream('hi'))
          whole = whole ? concat(whole, chunk) : chunk;
        expect(whole?.text).toBe('hello from fallback');
        expect(ctx.fallback.requests.map((r) => (r.json as { stream?: unknown }).stream)).toEqual([true]);
        expectFailedOver(ctx, path);
      });
    });

    // Chat completions only: the fake Responses route answers no function calls.
    it('tool calls: bindTools with a zod tool', async () => {
      const ctx = await start();
      const message = await chatModel(ctx.client).bindTools([weather]).invoke("What's the weather in Paris?");
      expect(message.tool_calls).toEqual([{ type: 'tool_call', id: 'call_1', name: 'get_weather', args: { city: 'Paris' } }]);
      expectFailedOver(ctx, '/chat/completions');
    });

    it('OpenAIEmbeddings: embedQuery, then embedDocuments straight to the fallback', async () => {
      const ctx = await start();
      const configuration = { fetch: fetchOf(ctx.client) };
      const embeddings = new OpenAIEmbeddings({ model: 'text-embedding-3-small', apiKey: 'unused', configuration, maxRetries: 0 });
      // The openai SDK inside asks for base64 float32 vectors when no encoding is given: compared as float32.
      const vector = Array.from(new Float32Array([0.1, 0.2, 0.3]));
      expect(await embeddings.embedQuery('hi')).toEqual(vector);
      expect(await embeddings.embedDocuments(['a', 'b'])).toEqual([vector, vector]);
      expectFailedOver(ctx, '/embeddings', 2);
    });
  });

  it("replaces the host's key: it sent Bearer unused, the upstreams got their endpoints' keys", async () => {
    const { client, primary, fallback } = await setup();
    primary.setFault({ kind: 'bad-gateway' });
    const sent: (string | null)[] = [];
    const spy: typeof fetch = (input, init) => {
      sent.push(new Headers(init?.headers).get('authorization'));
      return fetchOf(client)(input, init);
    };
    const model = new ChatOpenAI({ model: 'gpt-test', apiKey: 'unused', configuration: { fetch: spy }, maxRetries: 0 });
    expect((await model.invoke('hi')).text).toBe('hello from fallback');
    expect(sent).toEqual(['Bearer unused']);
    expect(counts(primary, fallback)).toEqual({ primary: 1, fallback: 1 });
    expectEndpointKeys(primary, fallback);
  });

  it("both endpoints failing: the SDK's error with the last attempt's status; only the library's 3 attempts", async () => {
    const { client, primary, fallback, events } = await setup();
    failEverywhere(primary, fallback);
    const error = await chatModel(client)
      .invoke('hi')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ status: 500, error: { message: 'Injected 500 from primary' } });
    expect(counts(primary, fallback)).toEqual(ONE_CALL);
    expect(events.retry.map((e) => `${e.from}->${e.endpoint}`)).toEqual(['primary->fallback', 'fallback->primary']);
    expectEndpointKeys(primary, fallback);
  });

  it("LangChain's default retries (6) left on: 7 calls of the library's 3 attempts each", async () => {
    const { client, primary, fallback } = await setup();
    failEverywhere(primary, fallback);
    const model = new ChatOpenAI({ model: 'gpt-test', apiKey: 'unused', configuration: { fetch: fetchOf(client) } });
    const error = await onFastClock(() => model.invoke('hi')).catch((e: unknown) => e);
    expect(error).toMatchObject({ status: 500 });
    expect(counts(primary, fallback)).toEqual({ primary: 7 * ONE_CALL.primary, fallback: 7 * ONE_CALL.fallback });
  });
});
