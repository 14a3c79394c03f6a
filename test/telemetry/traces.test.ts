/**
 * Traces with the real OpenTelemetry SDK: one CLIENT span per call (GenAI conventions) with one
 * child span per attempt (HTTP client conventions), parented under the app's active span.
 */
import { trace } from '@opentelemetry/api';
import { describe, expect, it } from 'vitest';
import { getServedBy } from '../../src/index.js';
import { chat, setup } from '../support/harness.js';
import { useTracing } from './tracing.js';

const { spans, byName, children } = useTracing();

describe('traces', () => {
  it('a 502 failover: one call span, two attempt spans (the 502, then the fallback with resend_count 1)', async () => {
    const { client, primary, fallback } = await setup();
    primary.queue({ kind: 'bad-gateway' });
    const { response } = await client.chat.completions.create(chat).withResponse();
    expect(getServedBy(response)).toBe('fallback');
    const [call] = byName('chat gpt-test');
    expect(call).toBeDefined();
    expect(call!.kind).toBe(2); // CLIENT
    expect(call!.attributes).toMatchObject({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-test',
      'gen_ai.response.model': expect.any(String),
      'gen_ai.response.id': expect.any(String),
      'gen_ai.usage.input_tokens': 5,
      'gen_ai.usage.output_tokens': 4,
      'server.address': '127.0.0.1',
      'server.port': Number(new URL(fallback.url).port),
    });
    const attempts = children(call!);
    expect(
      attempts.map((s) => [
        s.name,
        s.attributes['resilient_openai.endpoint'],
        s.attributes['http.response.status_code'],
        s.attributes['error.type'],
        s.attributes['http.request.resend_count'],
      ]),
    ).toEqual([
      ['POST', 'primary', 502, '502', undefined],
      ['POST', 'fallback', 200, undefined, 1],
    ]);
    expect(attempts[0]!.attributes['server.port']).toBe(Number(new URL(primary.url).port));
    // The switch and the breaker change are events of the call's span.
    expect(call!.events.map((e) => e.name)).toEqual(['resilient_openai.breaker', 'resilient_openai.switched']);
    // Never a prompt, a completion or a key.
    expect(JSON.stringify(spans().map((s) => [s.attributes, s.events]))).not.toMatch(/hello|sk-|hi"/);
  });

  it("the app's active span is the parent", async () => {
    const { client } = await setup();
    const tracer = trace.getTracer('app');
    await tracer.startActiveSpan('handle request', async (span) => {
      await client.chat.completions.create(chat);
      span.end();
    });
    const [app] = byName('handle request');
    const [call] = byName('chat gpt-test');
    expect(call!.parentSpanContext?.spanId).toBe(app!.spanContext().spanId);
    expect(children(call!)).toHaveLength(1);
  });

  it('all endpoints down: the call span has error.type and status error', async () => {
    const { client, primary, fallback } = await setup();
    primary.setFault({ kind: 'bad-gateway' });
    fallback.setFault({ kind: 'bad-gateway' });
    await expect(client.chat.completions.create(chat)).rejects.toMatchObject({ status: 502 });
    const [call] = byName('chat gpt-test');
    expect(call!.attributes['error.type']).toBe('502');
    expect(call!.status.code).toBe(2);
    expect(children(call!).every((s) => s.attributes['error.type'] === '502')).toBe(true);
  });

  it('a stream: the call span ends at its terminal frame and records the time to the first chunk', async () => {
    const { client, primary } = await setup();
    // Frames 20 ms apart: the stream is handed out long before its end.
    primary.queue({ kind: 'slow-body', ms: 20 });
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    expect(byName('chat gpt-test')).toEqual([]);
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('hello from primary');
    const [call] = byName('chat gpt-test');
    expect(call!.attributes['gen_ai.request.stream']).toBe(true);
    expect(call!.attributes['resilient_openai.time_to_first_chunk']).toBeGreaterThan(0);
  });

  it('telemetry: false records nothing', async () => {
    const { client } = await setup({ telemetry: false });
    await client.chat.completions.create(chat);
    expect(spans()).toEqual([]);
  });
});
