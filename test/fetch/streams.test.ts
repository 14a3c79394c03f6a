// A `stream: true` body streams over client.fetch with the same checks as an SDK stream: a cut
// before any output fails over unseen, a cut after output makes the body read reject.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { APIConnectionError } from 'openai';
import { describe, expect, it } from 'vitest';
import { getServedBy, IncompleteStreamError } from '../../src/index.js';
import { chat, clientFor, setup, track } from '../support/harness.js';
import { CHAT_URL, chatSSE, fetchOf, post, sameClock } from './support.js';

const streaming = { ...chat, stream: true };

describe('client.fetch: streams', () => {
  it("a stream: true chat answers text/event-stream, and the body read to the end is the upstream's events", async () => {
    const { client, primary } = await setup();
    const response = await fetchOf(client)(CHAT_URL, post(streaming));
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(sameClock(await response.text())).toBe(chatSSE('primary', 1, streaming));
    expect(primary.requests.map((r) => (r.json as { stream: unknown }).stream)).toEqual([true]);
  });

  it('a primary stream cut before any output fails over: the body is the whole fallback stream', async () => {
    const { client, primary, fallback } = await setup();
    primary.queue({ kind: 'cut-stream', afterChunks: 0 });
    const response = await fetchOf(client)(CHAT_URL, post(streaming));
    expect(getServedBy(response)).toBe('fallback');
    expect(sameClock(await response.text())).toBe(chatSSE('fallback', 1, streaming));
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(1);
  });

  it('a stream cut after output: the body delivers that output, then the read rejects with IncompleteStreamError; no other attempt', async () => {
    const { client, primary, fallback } = await setup();
    primary.queue({ kind: 'cut-stream', afterChunks: 1 });
    const response = await fetchOf(client)(CHAT_URL, post(streaming));
    expect(response.status).toBe(200);
    // Read chunk by chunk, as a host library's SSE parser does: what arrived, then the error.
    const reader = response.body!.getReader();
    let text = '';
    const error = await (async () => {
      for (let r = await reader.read(); !r.done; r = await reader.read()) text += new TextDecoder().decode(r.value);
    })().catch((e: unknown) => e);
    const whole = chatSSE('primary', 1, streaming);
    // The first event and the upstream's comment before its cut, exactly as sent.
    expect(sameClock(text)).toBe(whole.slice(0, whole.indexOf('\n\n') + 2) + ': cut\n\n');
    // Our own error, not wrapped: an APIConnectionError for host libraries that check the SDK's classes.
    expect(error).toBeInstanceOf(IncompleteStreamError);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect((error as IncompleteStreamError).endpoint).toBe('primary');
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(0);
  });

  it('text() of a stream cut after output rejects with IncompleteStreamError too', async () => {
    const { client, primary } = await setup();
    primary.queue({ kind: 'cut-stream', afterChunks: 2 });
    const response = await fetchOf(client)(CHAT_URL, post(streaming));
    await expect(response.text()).rejects.toBeInstanceOf(IncompleteStreamError);
  });

  it('GET with ?stream=true takes the stream path: a stream cut before its first output is retried, the caller gets the next one', async () => {
    const server = track(await resumedStream());
    const client = track(clientFor(server.url, { fallback: [], retry: { initialDelayMs: 1, maxDelayMs: 5 } }));
    const response = await fetchOf(client)('https://api.openai.com/v1/responses/resp_1?stream=true&starting_after=2');
    expect(response.headers.get('content-type')).toBe('text/event-stream');
    expect(await response.text()).toBe(RESUMED.join(''));
    expect(server.requests).toEqual([
      'GET /v1/responses/resp_1?stream=true&starting_after=2',
      'GET /v1/responses/resp_1?stream=true&starting_after=2',
    ]);
  });
});

const frame = (type: string, extra: object = {}) => `event: ${type}\ndata: ${JSON.stringify({ type, ...extra })}\n\n`;
const RESUMED = [frame('response.output_text.delta', { delta: 'hi' }), frame('response.completed', { response: { id: 'resp_1' } })];

/**
 * A stored response's stream resumed by GET (the fake upstream streams only POST bodies with
 * `stream: true`): the first request gets a lifecycle event and a cut, the next the rest whole.
 */
async function resumedStream() {
  const requests: string[] = [];
  const server = createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    if (requests.length === 1) return void res.write(frame('response.in_progress'), () => res.destroy());
    res.end(RESUMED.join(''));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    requests,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}
