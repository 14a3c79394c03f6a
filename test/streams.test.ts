import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { IncompleteStreamError, isIncompleteStreamError } from '../src/index.js';
import { chat, setup } from './support/harness.js';

async function collect(stream: AsyncIterable<OpenAI.Chat.Completions.ChatCompletionChunk>) {
  const parts: string[] = [];
  try {
    for await (const chunk of stream) parts.push(chunk.choices[0]?.delta?.content ?? '');
    return { text: parts.join(''), error: undefined };
  } catch (error) {
    return { text: parts.join(''), error };
  }
}

describe('streams that tell the truth', () => {
  it('a stream cut before its first event is failed over transparently', async () => {
    const { client, primary, fallback } = await setup();
    primary.queue({ kind: 'cut-stream', afterChunks: 0 });
    const result = await collect(await client.chat.completions.create({ ...chat, stream: true }));
    expect(result).toEqual({ text: 'hello from fallback', error: undefined });
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(1);
  });

  it('a stream that ends cleanly before its first event is retried too', async () => {
    const { client, primary } = await setup({ fallback: [] });
    primary.queue({ kind: 'truncated-stream', afterChunks: 0 });
    const result = await collect(await client.chat.completions.create({ ...chat, stream: true }));
    expect(result).toEqual({ text: 'hello from primary', error: undefined });
    expect(primary.count()).toBe(2);
  });

  it('a stream cut after output reached the caller raises IncompleteStreamError, and is never joined with another attempt', async () => {
    const { client, primary, fallback } = await setup();
    primary.queue({ kind: 'cut-stream', afterChunks: 1 });
    const result = await collect(await client.chat.completions.create({ ...chat, stream: true }));
    expect(result.error).toBeInstanceOf(IncompleteStreamError);
    expect(result.error).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(isIncompleteStreamError(result.error)).toBe(true);
    expect((result.error as IncompleteStreamError).endpoint).toBe('primary');
    expect(result.text).toBe('hello ');
    expect(fallback.count()).toBe(0);
  });

  it('a stream that ends cleanly without [DONE] or finish_reason raises IncompleteStreamError', async () => {
    const { client, primary } = await setup();
    primary.queue({ kind: 'truncated-stream', afterChunks: 2 });
    const result = await collect(await client.chat.completions.create({ ...chat, stream: true }));
    expect(result.error).toBeInstanceOf(IncompleteStreamError);
    expect(result.text).toBe('hello from ');
  });

  it('a stream with finish_reason but no [DONE] is complete', async () => {
    const { client, primary } = await setup();
    primary.queue({ kind: 'no-done' });
    expect(await collect(await client.chat.completions.create({ ...chat, stream: true }))).toEqual({
      text: 'hello from primary',
      error: undefined,
    });
  });

  it('a Responses stream without response.completed raises IncompleteStreamError through the helper', async () => {
    // One broken stream would open the breaker (it is a provider fault); this test reads both on the primary.
    const { client, primary } = await setup({ breaker: { failureThreshold: 5 } });
    primary.queue({ kind: 'truncated-stream', afterChunks: 4 });
    const stream = client.responses.stream({ model: 'gpt-test', input: 'hi' });
    await expect(stream.finalResponse()).rejects.toThrow(/ended before its terminal event/);
    // Cut after the finish_reason chunk (no [DONE]): the output was complete, nothing to report.
    primary.queue({ kind: 'cut-stream', afterChunks: 3 });
    const helper = client.chat.completions.stream(chat);
    await expect(helper.finalContent()).resolves.toBe('hello from primary');
  });

  it('chat.completions.stream() surfaces a cut mid-stream instead of ending quietly', async () => {
    const { client, primary } = await setup();
    primary.queue({ kind: 'truncated-stream', afterChunks: 1 });
    await expect(client.chat.completions.stream(chat).finalContent()).rejects.toThrow(/incomplete/);
  });

  it('asResponse() of a stream gives the guarded body to every body method, and keeps the URL', async () => {
    const { client, primary } = await setup();
    primary.queue({ kind: 'truncated-stream', afterChunks: 1 });
    const cut = await client.chat.completions.create({ ...chat, stream: true }).asResponse();
    expect(cut.url).toMatch(/\/chat\/completions$/);
    await expect(cut.text()).rejects.toBeInstanceOf(IncompleteStreamError);
    const whole = await client.chat.completions.create({ ...chat, stream: true }).asResponse();
    expect(whole.bodyUsed).toBe(false);
    const text = await whole.text();
    expect(text).toContain('data: [DONE]');
    expect(whole.bodyUsed).toBe(true);
  });

  it('a slow stream that keeps sending is not cut', async () => {
    // Its events come 150 ms apart: the whole stream takes 450 ms, well past the request timeout.
    const { client, primary } = await setup({ timeouts: { requestMs: 250, streamHeadersMs: 250 } });
    primary.queue({ kind: 'slow-body', ms: 150 });
    expect(await collect(await client.chat.completions.create({ ...chat, stream: true }))).toEqual({
      text: 'hello from primary',
      error: undefined,
    });
  });
});
