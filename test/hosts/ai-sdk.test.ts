// The Vercel AI SDK never takes an OpenAI client: `createOpenAI({ fetch: client['fetch'] })` is how
// its calls get failover. Real `ai` and `@ai-sdk/openai` against loopback upstreams.
import { createOpenAI } from '@ai-sdk/openai';
import { APICallError, embed, generateObject, generateText, RetryError, streamText, type LanguageModel } from 'ai';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
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

type Provider = ReturnType<typeof createOpenAI>;

const provider = (ctx: { client: Parameters<typeof fetchOf>[0] }): Provider =>
  createOpenAI({ apiKey: 'unused', fetch: fetchOf(ctx.client) });

const APIS: { api: string; path: string; model: (openai: Provider) => LanguageModel }[] = [
  { api: 'chat completions', path: '/chat/completions', model: (openai) => openai.chat('gpt-test') },
  { api: 'Responses', path: '/responses', model: (openai) => openai('gpt-test') },
];

// Node < 22: see BEFORE_NODE_22.
describe.skipIf(BEFORE_NODE_22)('Vercel AI SDK through client.fetch', () => {
  // maxRetries: 0 on every call, as documented: the library's attempts are then the only ones.
  describe.each(FAILING_PRIMARIES)('$name, the fallback answers', ({ start }) => {
    describe.each(APIS)('$api', ({ path, model }) => {
      it('generateText', async () => {
        const ctx = await start();
        const { text } = await generateText({ model: model(provider(ctx)), prompt: 'hi', maxRetries: 0 });
        expect(text).toBe('hello from fallback');
        expectFailedOver(ctx, path);
      });

      it('streamText, the whole textStream', async () => {
        const ctx = await start();
        const result = streamText({ model: model(provider(ctx)), prompt: 'hi', maxRetries: 0 });
        let text = '';
        for await (const delta of result.textStream) text += delta;
        expect(text).toBe('hello from fallback');
        expect(ctx.fallback.requests.map((r) => (r.json as { stream?: unknown }).stream)).toEqual([true]);
        expectFailedOver(ctx, path);
      });

      it('generateObject with a zod schema', async () => {
        const ctx = await start();
        const schema = z.object({ answer: z.string() });
        const { object } = await generateObject({ model: model(provider(ctx)), schema, prompt: 'hi', maxRetries: 0 });
        expect(object).toEqual({ answer: 'hello from fallback' });
        expectFailedOver(ctx, path);
      });
    });

    it('embed', async () => {
      const ctx = await start();
      const { embedding } = await embed({ model: provider(ctx).embedding('text-embedding-3-small'), value: 'hi', maxRetries: 0 });
      expect(embedding).toEqual([0.1, 0.2, 0.3]);
      expectFailedOver(ctx, '/embeddings');
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
    const openai = createOpenAI({ apiKey: 'unused', fetch: spy });
    await generateText({ model: openai.chat('gpt-test'), prompt: 'hi', maxRetries: 0 });
    expect(sent).toEqual(['Bearer unused']);
    expect(counts(primary, fallback)).toEqual({ primary: 1, fallback: 1 });
    expectEndpointKeys(primary, fallback);
  });

  it("both endpoints failing: APICallError with the last attempt's status; only the library's 3 attempts", async () => {
    const { client, primary, fallback, events } = await setup();
    failEverywhere(primary, fallback);
    const error = await generateText({ model: provider({ client }).chat('gpt-test'), prompt: 'hi', maxRetries: 0 }).catch(
      (e: unknown) => e,
    );
    if (!APICallError.isInstance(error)) throw error;
    expect(error.statusCode).toBe(500);
    expect(JSON.parse(error.responseBody ?? '')).toMatchObject({ error: { message: 'Injected 500 from primary' } });
    expect(counts(primary, fallback)).toEqual(ONE_CALL);
    expect(events.retry.map((e) => `${e.from}->${e.endpoint}`)).toEqual(['primary->fallback', 'fallback->primary']);
    expectEndpointKeys(primary, fallback);
  });

  it("the AI SDK's default retries (2) left on: 3 calls of the library's 3 attempts each", async () => {
    const { client, primary, fallback } = await setup();
    failEverywhere(primary, fallback);
    const model = provider({ client }).chat('gpt-test');
    const error = await onFastClock(() => generateText({ model, prompt: 'hi' })).catch((e: unknown) => e);
    if (!RetryError.isInstance(error)) throw error;
    expect(error.reason).toBe('maxRetriesExceeded');
    expect(error.errors.map((e) => (APICallError.isInstance(e) ? e.statusCode : e))).toEqual([500, 500, 500]);
    expect(counts(primary, fallback)).toEqual({ primary: 3 * ONE_CALL.primary, fallback: 3 * ONE_CALL.fallback });
  });
});
