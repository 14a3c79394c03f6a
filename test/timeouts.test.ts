import OpenAI, { APIConnectionTimeoutError } from 'openai';
import { describe, expect, it } from 'vitest';
import { getAttemptErrors, ResilientOpenAI } from '../src/index.js';
import { chat, PRIMARY_KEY, setup, track, upstream } from './support/harness.js';
import type { Upstream } from './support/upstream.js';

describe('hung and slow upstreams', () => {
  it('a primary that accepts and never answers fails over after timeouts.requestMs (no explicit timeout)', async () => {
    // The fallback has a timeout of its own: only the primary's answer races the 150 ms.
    const { client, primary, fallback, events } = await setup({ timeouts: { requestMs: 150 } }, { timeout: 10_000 });
    primary.setFault({ kind: 'hang' });
    const started = Date.now();
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from fallback');
    expect(Date.now() - started).toBeLessThan(5000);
    expect(events.switched[0]!.error).toBeInstanceOf(APIConnectionTimeoutError);
    expect(fallback.count()).toBe(1);
    expect(primary.count()).toBe(1);
  });

  it('streaming calls: the headers bound applies even when the request timeout is long', async () => {
    const { client, primary } = await setup({ timeout: 600_000, timeouts: { streamHeadersMs: 400 } });
    primary.setFault({ kind: 'hang' });
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('hello from fallback');
  });

  it('a JSON body that stalls after the headers is an attempt failure: it fails over', async () => {
    const { client, primary, fallback } = await setup({ timeouts: { requestMs: 200 } }, { timeout: 10_000 });
    primary.setFault({ kind: 'slow-body', ms: 5000 });
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from fallback');
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(1);
  });

  it('a JSON body cut half-way is an attempt failure: it fails over', async () => {
    const { client, primary } = await setup();
    primary.queue({ kind: 'cut-stream', afterChunks: 0 });
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from fallback');
    expect(primary.count()).toBe(1);
  });

  it('the per-call deadline bounds all attempts and waits together', async () => {
    // Attempts at about 0, 300 and 600 ms; a fourth would start when the 900 ms deadline ends, so
    // the call stops after the third (maxRetries alone would allow 51).
    const { client, primary, events } = await setup({
      fallback: [],
      timeouts: { deadlineMs: 900 },
      retry: { initialDelayMs: 300, maxDelayMs: 300, jitter: 0 },
      maxRetries: 50,
    });
    primary.setFault({ kind: 'status', status: 500 });
    const started = Date.now();
    const error = await client.chat.completions.create(chat).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(900);
    expect((error as { status?: number }).status).toBe(500);
    expect(getAttemptErrors(error).map((a) => (a.error as { status?: number }).status)).toEqual([500, 500, 500]);
    expect(events.retry.map((e) => e.delayMs)).toEqual([300, 300]);
    expect(primary.count()).toBe(3);
  });

  it('the deadline also cuts an attempt that hangs', async () => {
    const { client, primary, fallback } = await setup({ timeouts: { deadlineMs: 200, requestMs: 60_000 } });
    primary.setFault({ kind: 'hang' });
    fallback.setFault({ kind: 'hang' });
    const started = Date.now();
    await expect(client.chat.completions.create(chat)).rejects.toBeInstanceOf(APIConnectionTimeoutError);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('a per-request timeout wins over timeouts.requestMs', async () => {
    const { client, primary } = await setup({ timeouts: { requestMs: 60_000 } });
    primary.setFault({ kind: 'hang' });
    const started = Date.now();
    expect((await client.chat.completions.create(chat, { timeout: 400 })).choices[0]!.message.content).toBe('hello from fallback');
    expect(Date.now() - started).toBeLessThan(5000);
  });

  describe('the bound each attempt passes to its inner client', () => {
    const sent = (u: Upstream) => u.requests.at(-1)!.headers['x-stainless-timeout'];

    it('a happy call passes none: the inner client waits timeouts.requestMs by itself, and sends what a plain client sends', async () => {
      const { client, primary } = await setup();
      await client.chat.completions.create(chat);
      // The SDK sends `x-stainless-timeout` only for a per-request timeout.
      expect(sent(primary)).toBeUndefined();
      expect(client.activeClient.timeout).toBe(120_000);
      const custom = await setup({ timeouts: { requestMs: 30_000 } });
      await custom.client.chat.completions.create(chat);
      expect(sent(custom.primary)).toBeUndefined();
      expect(custom.client.activeClient.timeout).toBe(30_000);
    });

    it('a per-request timeout is passed on, as a plain client sends it', async () => {
      const { client, primary } = await setup();
      await client.chat.completions.create(chat, { timeout: 120_000 });
      expect(sent(primary)).toBe('120');
    });

    it('less time left in the call than the usual bound: that time is passed', async () => {
      const { client, primary } = await setup({ timeouts: { deadlineMs: 5000 } });
      await client.chat.completions.create(chat);
      // Whole seconds, truncated: 5000 ms less the few spent before the attempt.
      expect(['4', '5']).toContain(sent(primary));
    });

    it('a stream passes its headers bound (timeouts.streamHeadersMs)', async () => {
      const { client, primary } = await setup();
      for await (const _ of await client.chat.completions.create({ ...chat, stream: true }));
      expect(sent(primary)).toBe('20');
    });

    it('a client given ready-made keeps its own timeout: with the SDK default, a call passes timeouts.requestMs', async () => {
      const primary = await upstream('primary');
      const given = new OpenAI({ apiKey: PRIMARY_KEY, baseURL: primary.url });
      const client = track(new ResilientOpenAI({ client: given, fallback: [], healthCheck: false }));
      await client.chat.completions.create(chat);
      expect(sent(primary)).toBe('120');
      expect(given.timeout).toBe(600_000);
    });
  });
});
