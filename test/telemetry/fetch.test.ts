/**
 * A request through `client.fetch` (as the AI SDK or LangChain sends it) is traced as the same
 * call through an SDK method: one CLIENT span, one child span per attempt, under the app's span.
 */
import { describe, expect, it } from 'vitest';
import { chat, setup } from '../support/harness.js';
import { useTracing } from './tracing.js';

const { provider, spans, children } = useTracing();
const post = (body: unknown) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', authorization: 'Bearer unused' },
  body: JSON.stringify(body),
});

describe('traces of client.fetch', () => {
  it('a 502 failover inside the app span: one chat span, the 502 attempt and the fallback attempt', async () => {
    const { client, primary } = await setup();
    primary.queue({ kind: 'bad-gateway' });
    const fetch = client['fetch'] as typeof globalThis.fetch;
    const app = provider.getTracer('app');
    const text = await app.startActiveSpan('handler', async (span) => {
      const response = await fetch('https://api.openai.com/v1/chat/completions', post(chat));
      span.end();
      return response.text();
    });
    expect(JSON.parse(text)).toMatchObject({ choices: [{ message: { content: 'hello from fallback' } }] });
    const [handler] = spans().filter((s) => s.name === 'handler');
    const [call] = children(handler!);
    expect(call!.name).toBe('chat gpt-test');
    expect(call!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.request.model': 'gpt-test',
      'gen_ai.usage.output_tokens': 4,
    });
    expect(children(call!).map((s) => [s.attributes['resilient_openai.endpoint'], s.attributes['http.response.status_code']])).toEqual([
      ['primary', 502],
      ['fallback', 200],
    ]);
    expect(call!.events.map((e) => e.name)).toEqual(['resilient_openai.breaker', 'resilient_openai.switched']);
  });

  it('a stream: one span, ended by the time the host library has read the body', async () => {
    const { client } = await setup();
    const fetch = client['fetch'] as typeof globalThis.fetch;
    const response = await fetch('https://api.openai.com/v1/chat/completions', post({ ...chat, stream: true }));
    const wire = await response.text();
    expect(wire.trimEnd().endsWith('data: [DONE]')).toBe(true);
    const [call] = spans().filter((s) => s.name === 'chat gpt-test');
    expect(call!.status.code).not.toBe(2); // not ERROR
    expect(children(call!).map((s) => s.attributes['resilient_openai.endpoint'])).toEqual(['primary']);
  });

  it('an HTTP error returned as the Response is an error on the span', async () => {
    const { client, primary, fallback } = await setup();
    primary.setFault({ kind: 'status', status: 400 });
    const fetch = client['fetch'] as typeof globalThis.fetch;
    const response = await fetch('https://api.openai.com/v1/chat/completions', post(chat));
    expect(response.status).toBe(400);
    const [call] = spans().filter((s) => s.name === 'chat gpt-test');
    expect(call!.attributes['error.type']).toBe('400');
    expect(call!.status.code).toBe(2); // ERROR
    expect([primary.count(), fallback.count()]).toEqual([1, 0]);
  });
});
