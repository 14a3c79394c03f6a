import { afterEach, describe, expect, it } from 'vitest';
import { scriptedPair } from '../support/scripted-pair.js';
import { IncompleteStreamError, ResilientOpenAI, type ResilientOptions, type ResumedEvent } from '../../src/index.js';
import { EVENTS, FIRST_OUTPUT, ID, TEXT, frame, frames, server } from '../support/background-stream.js';
import { chatChunk, type ScriptedUpstream } from '../support/scripted-sse.js';

// Background Responses streams live on the server: cut after output, they continue from the same
// endpoint with `GET /responses/{id}?stream=true&starting_after=N`, and the caller sees every
// event once, in order.

const open: { close(): unknown }[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

async function setup(options: Partial<ResilientOptions> = {}) {
  const base = { retry: { initialDelayMs: 1, maxDelayMs: 5 }, resume: { delayMs: 1 } };
  const { client, primary, fallback } = await scriptedPair({ primary: server, fallback: server }, { ...base, ...options }, open);
  const resumed: ResumedEvent[] = [];
  client.on('resumed', (e) => resumed.push(e));
  return { client, primary, fallback, resumed };
}

/** Every event the caller sees, as `seq:type`, and the error the iteration ended with. */
async function background(client: ResilientOpenAI) {
  const seen: string[] = [];
  try {
    const stream = await client.responses.create({ model: 'gpt-test', input: 'hi', background: true, stream: true });
    for await (const event of stream) seen.push(`${event.sequence_number}:${event.type}`);
    return { seen, error: undefined };
  } catch (error) {
    return { seen, error };
  }
}

const ALL = EVENTS.map((e) => `${e.sequence_number}:${e.type}`);
const continuations = (up: ScriptedUpstream) => up.requests.filter((r) => r.path.startsWith('/responses/resp_bg?'));

describe('background Responses streams continue after a cut', () => {
  it.each(Array.from({ length: EVENTS.length - 1 }, (_, k) => k + 1))(
    'cut after %i events: every event once, in order',
    async (cutAfter) => {
      const { client, primary, fallback, resumed } = await setup();
      primary.queue([{ write: frames(0, cutAfter) }, { cut: true }]);
      const { seen, error } = await background(client);
      expect(error).toBeUndefined();
      expect(seen).toEqual(ALL);
      if (cutAfter <= FIRST_OUTPUT) {
        // Nothing reached the caller: an ordinary failed attempt, answered by the fallback.
        expect(continuations(primary)).toEqual([]);
        expect(fallback.requests).toHaveLength(1);
        return;
      }
      // Output reached the caller: continued on the endpoint that holds the response.
      expect(continuations(primary).map((r) => r.path)).toEqual([`/responses/resp_bg?stream=true&starting_after=${cutAfter - 1}`]);
      expect(fallback.requests).toEqual([]);
      expect(resumed).toEqual([
        expect.objectContaining({ endpoint: 'primary', responseId: ID, from: cutAfter - 1, attempt: 1, callId: expect.any(String) }),
      ]);
      expect(resumed[0]!.error).toBeInstanceOf(IncompleteStreamError);
    },
  );

  it('cut inside a frame: the half frame is never handed out, and the stream continues after the last whole one', async () => {
    const { client, primary } = await setup();
    const half = frame(FIRST_OUTPUT + 1);
    primary.queue([{ write: frames(0, FIRST_OUTPUT + 1) + half.slice(0, half.length >> 1) }, { cut: true }]);
    const { seen, error } = await background(client);
    expect(error).toBeUndefined();
    expect(seen).toEqual(ALL);
    expect(continuations(primary).map((r) => r.path)).toEqual([`/responses/resp_bg?stream=true&starting_after=${FIRST_OUTPUT}`]);
  });

  it('cut twice: continued twice, the caller still sees every event once', async () => {
    const { client, primary, resumed } = await setup();
    primary.queue(
      [{ write: frames(0, FIRST_OUTPUT + 1) }, { cut: true }],
      [{ write: frames(FIRST_OUTPUT + 1, FIRST_OUTPUT + 2) }, { cut: true }],
    );
    const { seen, error } = await background(client);
    expect(error).toBeUndefined();
    expect(seen).toEqual(ALL);
    expect(resumed.map((e) => [e.from, e.attempt])).toEqual([
      [FIRST_OUTPUT, 1],
      [FIRST_OUTPUT + 1, 2],
    ]);
  });

  it('a stall past timeouts.streamIdleMs: continued, not a StreamIdleTimeoutError', async () => {
    const { client, primary, resumed } = await setup({ timeouts: { streamIdleMs: 200 } });
    primary.queue([{ write: frames(0, FIRST_OUTPUT + 2) }, { hang: true }]);
    const { seen, error } = await background(client);
    expect(error).toBeUndefined();
    expect(seen).toEqual(ALL);
    expect(resumed).toHaveLength(1);
    expect(resumed[0]!.error).toMatchObject({ name: 'StreamIdleTimeoutError' });
  });

  it('a repeating server: events at or before the last one received are dropped', async () => {
    const { client, primary } = await setup();
    primary.queue([{ write: frames(0, FIRST_OUTPUT + 2) }, { cut: true }], [{ write: frames(FIRST_OUTPUT) }]);
    const { seen, error } = await background(client);
    expect(error).toBeUndefined();
    expect(seen).toEqual(ALL);
  });

  it('the continuation answered 404 (the response is gone): IncompleteStreamError, no more tries', async () => {
    const { client, primary } = await setup();
    primary.queue(
      [{ write: frames(0, FIRST_OUTPUT + 1) }, { cut: true }],
      [
        { head: { status: 404, contentType: 'application/json' } },
        { write: '{"error":{"message":"gone","type":"invalid_request_error"}}' },
      ],
    );
    const { seen, error } = await background(client);
    expect(error).toBeInstanceOf(IncompleteStreamError);
    expect((error as IncompleteStreamError).resumes).toBe(0);
    expect(seen).toEqual(ALL.slice(0, FIRST_OUTPUT + 1));
    expect(continuations(primary)).toHaveLength(1);
  });

  it('the budget: resume.attempts continuations, then IncompleteStreamError with their count', async () => {
    const { client, primary, resumed } = await setup({ resume: { attempts: 2, delayMs: 1 } });
    primary.queue([{ write: frames(0, FIRST_OUTPUT + 1) }, { cut: true }], [{ cut: true }], [{ cut: true }]);
    const { seen, error } = await background(client);
    expect(error).toBeInstanceOf(IncompleteStreamError);
    expect((error as IncompleteStreamError).resumes).toBe(2);
    expect(resumed.map((e) => e.attempt)).toEqual([1, 2]);
    expect(seen).toEqual(ALL.slice(0, FIRST_OUTPUT + 1));
  });

  it('the responses.stream() helper gets the whole response', async () => {
    const { client, primary } = await setup();
    primary.queue([{ write: frames(0, FIRST_OUTPUT + 2) }, { cut: true }]);
    const final = await client.responses.stream({ model: 'gpt-test', input: 'hi', background: true }).finalResponse();
    expect(final.output_text).toBe(TEXT.join(''));
    expect(continuations(primary)).toHaveLength(1);
  });

  it('through client.fetch: the body a host library reads has every event once', async () => {
    const { client, primary } = await setup();
    primary.queue([{ write: frames(0, FIRST_OUTPUT + 2) }, { cut: true }]);
    const url = primary.url + '/responses';
    const response = await client['fetch'](url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer unused' },
      body: JSON.stringify({ model: 'gpt-test', input: 'hi', background: true, stream: true }),
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(frames(0));
    expect(continuations(primary)).toHaveLength(1);
  });

  it('a retrieve(id, { stream: true }) stream continues too', async () => {
    const { client, primary } = await setup();
    primary.queue([{ write: frames(3, FIRST_OUTPUT + 2) }, { cut: true }]);
    const seen: number[] = [];
    for await (const event of await client.responses.retrieve(ID, { stream: true, starting_after: 2 })) seen.push(event.sequence_number);
    expect(seen).toEqual(EVENTS.slice(3).map((e) => e.sequence_number));
    expect(continuations(primary).map((r) => r.path)).toEqual([
      '/responses/resp_bg?stream=true&starting_after=2',
      `/responses/resp_bg?stream=true&starting_after=${FIRST_OUTPUT + 1}`,
    ]);
  });

  it('the caller aborts while the stream waits to continue: no continuation, and the breaker hears nothing', async () => {
    const { client, primary, fallback } = await setup({ resume: { delayMs: 5000 } });
    const switched: string[] = [];
    client.on('switched', (e) => switched.push(e.to));
    primary.queue([{ write: frames(0, FIRST_OUTPUT + 1) }, { cut: true }]);
    const controller = new AbortController();
    const seen: number[] = [];
    const ended = (async () => {
      const stream = await client.responses.create(
        { model: 'gpt-test', input: 'hi', background: true, stream: true },
        { signal: controller.signal },
      );
      for await (const event of stream) {
        seen.push(event.sequence_number);
        // The cut comes 20 ms after this event; the continuation would wait 5 s.
        if (event.sequence_number === FIRST_OUTPUT) setTimeout(() => controller.abort(), 300);
      }
    })().then(
      () => 'ended',
      (error: unknown) => error,
    );
    const outcome = await ended;
    // As an abort mid-stream ends with the plain SDK: quietly.
    expect(outcome).toBe('ended');
    expect(seen).toEqual(EVENTS.slice(0, FIRST_OUTPUT + 1).map((e) => e.sequence_number));
    expect(continuations(primary)).toEqual([]);
    expect(switched).toEqual([]);
    expect(client.getStatus().endpoints[0]!.state).toBe('closed');
    expect(fallback.requests).toEqual([]);
  });
});

describe('streams that cannot continue keep the truthful error', () => {
  it('a Responses stream without background: true, cut after output: IncompleteStreamError, nothing asked again', async () => {
    const { client, primary } = await setup();
    primary.queue([{ write: frames(0, FIRST_OUTPUT + 1) }, { cut: true }]);
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const event of await client.responses.create({ model: 'gpt-test', input: 'hi', stream: true })) seen.push(event.type);
      })(),
    ).rejects.toBeInstanceOf(IncompleteStreamError);
    expect(continuations(primary)).toEqual([]);
  });

  it('a chat stream cut after output: IncompleteStreamError', async () => {
    const { client, primary } = await setup();
    primary.queue([{ write: chatChunk({ role: 'assistant', content: 'part' }) }, { cut: true }]);
    await expect(
      (async () => {
        for await (const _ of await client.chat.completions.create({ model: 'gpt-test', messages: [], stream: true }));
      })(),
    ).rejects.toBeInstanceOf(IncompleteStreamError);
    expect(primary.requests).toHaveLength(1);
  });

  it('resume: false turns it off', async () => {
    const { client, primary, resumed } = await setup({ resume: false });
    primary.queue([{ write: frames(0, FIRST_OUTPUT + 1) }, { cut: true }]);
    const { error } = await background(client);
    expect(error).toBeInstanceOf(IncompleteStreamError);
    expect(continuations(primary)).toEqual([]);
    expect(resumed).toEqual([]);
  });

  it('bad resume options are a TypeError naming the option and the value', () => {
    expect(() => new ResilientOpenAI({ apiKey: 'sk-x', resume: { attempts: 0 } })).toThrow(/resume\.attempts.*0/);
    expect(() => new ResilientOpenAI({ apiKey: 'sk-x', resume: 'yes' as never })).toThrow(/resume.*yes/);
  });
});
