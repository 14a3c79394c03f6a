import { APIError, BadRequestError } from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { scriptedPair } from '../support/scripted-pair.js';
import { IncompleteStreamError, ResilientOpenAI, StreamIdleTimeoutError, type ResilientOptions } from '../../src/index.js';
import { chatChunk, chatStream, responsesEvent, responsesStream, type ScriptedUpstream } from '../support/scripted-sse.js';

const open: { close(): unknown }[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

const healthy = (name: string) => (path: string) =>
  path.startsWith('/responses') ? responsesStream(`hi from ${name}`) : chatStream(`hi from ${name}`);

async function pair(options: Partial<ResilientOptions> = {}) {
  const answers = { primary: healthy('primary'), fallback: healthy('fallback') };
  const { client, primary, fallback } = await scriptedPair(answers, { retry: { initialDelayMs: 1, maxDelayMs: 5 }, ...options }, open);
  const switched: string[] = [];
  client.on('switched', (e) => switched.push(`${e.from}->${e.to}`));
  return { primary, fallback, client, switched };
}

async function chatText(client: ResilientOpenAI, body: Record<string, unknown> = {}) {
  let text = '';
  for await (const chunk of await client.chat.completions.create({
    model: 'gpt-test',
    messages: [{ role: 'user', content: 'hi' }],
    stream: true,
    ...body,
  }))
    for (const c of chunk.choices) text += c.delta?.content ?? '';
  return text;
}

async function responsesText(client: ResilientOpenAI) {
  let text = '';
  for await (const event of await client.responses.create({ model: 'gpt-test', input: 'hi', stream: true }))
    if (event.type === 'response.output_text.delta') text += event.delta;
  return text;
}

const settle = <T>(p: Promise<T>) =>
  p.then(
    (value) => ({ value, error: undefined }),
    (error: unknown) => ({ value: undefined, error }),
  );
const requestsTo = (u: ScriptedUpstream) => u.requests.length;

describe('streams that never lie', () => {
  it('content that mentions [DONE] and finish_reason, then a cut: IncompleteStreamError, not a quiet end', async () => {
    const { client, primary } = await pair();
    const tricky = 'the markers are [DONE] and "finish_reason":"stop" and data: [DONE]\n\n';
    primary.queue([{ write: chatChunk({ role: 'assistant', content: '' }) + chatChunk({ content: tricky }) }, { cut: true }]);
    const result = await settle(chatText(client));
    expect(result.error).toBeInstanceOf(IncompleteStreamError);
  });

  it('a Responses stream whose instructions echo [DONE] and response.completed, cut after output: IncompleteStreamError', async () => {
    const { client, primary } = await pair();
    primary.queue([
      {
        write:
          responsesEvent('response.created', { response: { id: 'r', instructions: 'say [DONE] or response.completed', output: [] } }) +
          responsesEvent('response.output_text.delta', { delta: 'partial response.completed [DONE]' }),
      },
      { cut: true },
    ]);
    const result = await settle(responsesText(client));
    expect(result.error).toBeInstanceOf(IncompleteStreamError);
  });

  it('n: 2 with choice 0 finished and choice 1 cut: IncompleteStreamError; both finished: whole', async () => {
    const { client, primary } = await pair({ breaker: { failureThreshold: 5 } });
    const start = chatChunk({ content: 'zero' }, null, 0) + chatChunk({ content: 'one' }, null, 1) + chatChunk({}, 'stop', 0);
    primary.queue([{ write: start }, { cut: true }]);
    expect((await settle(chatText(client, { n: 2 }))).error).toBeInstanceOf(IncompleteStreamError);
    // Positive control: the same stream with choice 1 finished too (and no [DONE]) is whole.
    primary.queue([{ write: start + chatChunk({}, 'length', 1) }]);
    expect(await chatText(client, { n: 2 })).toBe('zeroone');
  });
});

describe('streams that never hang', () => {
  it('silence after the first output longer than timeouts.streamIdleMs: StreamIdleTimeoutError, and the breaker counts it', async () => {
    const { client, primary, switched } = await pair({ timeouts: { streamIdleMs: 300, requestMs: 5000, deadlineMs: 5000 } });
    primary.queue([{ write: chatChunk({ role: 'assistant', content: 'a' }) }, { hang: true }]);
    const result = await settle(chatText(client));
    expect(result.error).toBeInstanceOf(StreamIdleTimeoutError);
    expect(result.error).toBeInstanceOf(IncompleteStreamError);
    expect((result.error as StreamIdleTimeoutError).idleMs).toBe(300);
    expect(switched).toEqual(['primary->fallback']);
    expect(client.getStatus().endpoints[0]!.lastError).toMatch(/StreamIdleTimeoutError/);
  });

  it('a stream that is only slow between frames (under streamIdleMs) is whole', async () => {
    const { client, primary, switched } = await pair({ timeouts: { streamIdleMs: 2000 } });
    primary.queue([
      { write: chatChunk({ content: 'a' }) },
      { pause: 150 },
      { write: chatChunk({ content: 'b' }) },
      { pause: 150 },
      { write: chatChunk({}, 'stop') + 'data: [DONE]\n\n' },
    ]);
    expect(await chatText(client)).toBe('ab');
    expect(switched).toEqual([]);
  });

  it('silence after the terminal frame ends the iteration cleanly', async () => {
    const { client, primary } = await pair({ timeouts: { streamIdleMs: 200 } });
    primary.queue([{ write: chatChunk({ content: 'whole' }) + chatChunk({}, 'stop') + 'data: [DONE]\n\n' }, { hang: true }]);
    expect(await chatText(client)).toBe('whole');
  });

  it('[DONE] with the connection left open: the .stream() helper resolves at once (default streamIdleMs)', async () => {
    const { client, primary } = await pair();
    primary.queue([
      { write: chatChunk({ role: 'assistant', content: 'done' }) + chatChunk({}, 'stop') + 'data: [DONE]\n\n' },
      { hang: true },
    ]);
    await expect(client.chat.completions.stream({ model: 'gpt-test', messages: [] }).finalContent()).resolves.toBe('done');
  });

  it('every choice finished, no [DONE], the connection left open: the helper gets the whole answer, not an abort', async () => {
    const { client, primary } = await pair({ timeouts: { streamIdleMs: 200 } });
    primary.queue([{ write: chatChunk({ role: 'assistant', content: 'whole' }) + chatChunk({}, 'stop') }, { hang: true }]);
    await expect(client.chat.completions.stream({ model: 'gpt-test', messages: [] }).finalContent()).resolves.toBe('whole');
  });

  it('Responses lifecycle events, then silence: timeouts.requestMs bounds the wait for output and the fallback answers', async () => {
    const { client, primary, fallback } = await pair({ timeouts: { requestMs: 300, deadlineMs: 10_000 } });
    primary.queue([
      { write: responsesEvent('response.created', { response: { id: 'r' } }) + responsesEvent('response.in_progress') },
      { hang: true },
    ]);
    expect(await responsesText(client)).toBe('hi from fallback');
    expect(requestsTo(fallback)).toBe(1);
    expect(requestsTo(primary)).toBe(1);
  });
});

describe('error frames and non-streams', () => {
  it('event: error before any output is a failed attempt: the fallback answers, the primary is marked down', async () => {
    const { client, primary, fallback, switched } = await pair();
    primary.queue([
      {
        write:
          responsesEvent('response.created', { response: { id: 'r' } }) +
          responsesEvent('error', { code: 'server_error', message: 'boom' }),
      },
    ]);
    expect(await responsesText(client)).toBe('hi from fallback');
    expect(switched).toEqual(['primary->fallback']);
    expect(requestsTo(fallback)).toBe(1);
  });

  it('a chat error chunk before output naming an invalid request is thrown at once, as the SDK would', async () => {
    const { client, primary, fallback } = await pair();
    primary.queue([
      { write: `data: ${JSON.stringify({ error: { type: 'invalid_request_error', message: 'bad param', code: null } })}\n\n` },
    ]);
    const result = await settle(chatText(client));
    expect(result.error).toBeInstanceOf(BadRequestError);
    expect((result.error as Error).message).toMatch(/bad param/);
    expect(requestsTo(fallback)).toBe(0);
  });

  it('an error frame after output surfaces as the SDK does, and a server error counts against the breaker', async () => {
    const { client, primary, switched } = await pair();
    primary.queue([
      { write: chatChunk({ content: 'part' }) + `data: ${JSON.stringify({ error: { type: 'server_error', message: 'later boom' } })}\n\n` },
    ]);
    const result = await settle(chatText(client));
    expect(result.error).toBeInstanceOf(APIError);
    expect((result.error as Error).message).toMatch(/later boom/);
    expect(switched).toEqual(['primary->fallback']);
  });

  it('a 200 that is not an event stream (a proxy page) is a failed attempt, failed over', async () => {
    const { client, primary, fallback } = await pair();
    // The page's connection stays open: only the content-type tells that no stream is coming.
    primary.queue([{ head: { contentType: 'text/html' } }, { write: '<html>login</html>' }, { hang: true }]);
    expect(await chatText(client)).toBe('hi from fallback');
    expect(requestsTo(fallback)).toBe(1);
  });

  it('the breaker hears of a stream at its end: no success is recorded until the terminal frame', async () => {
    const { client, primary } = await pair();
    primary.queue([{ write: chatChunk({ content: 'a' }) }, { pause: 200 }, { write: chatChunk({}, 'stop') + 'data: [DONE]\n\n' }]);
    const stream = await client.chat.completions.create({ model: 'gpt-test', messages: [], stream: true });
    expect(client.getStatus().endpoints[0]!.lastSuccessAt).toBeNull();
    for await (const chunk of stream) void chunk;
    expect(client.getStatus().endpoints[0]!.lastSuccessAt).not.toBeNull();
  });

  it('timeouts.streamIdleMs must be a positive integer', () => {
    for (const bad of [-1, 1.5, 0, Number.NaN]) {
      expect(() => new ResilientOpenAI({ apiKey: 'sk-x', timeouts: { streamIdleMs: bad } })).toThrow(/`timeouts\.streamIdleMs`.*got/);
    }
  });
});
