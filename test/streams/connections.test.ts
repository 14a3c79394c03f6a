import OpenAI from 'openai';
import { afterEach, describe, expect, it } from 'vitest';
import { scriptedPair } from '../support/scripted-pair.js';
import { IncompleteStreamError } from '../../src/index.js';
import { chatChunk, chatStream, responsesStream, scriptedUpstream } from '../support/scripted-sse.js';

// What happens to the connection and the body under a stream once it is handed out: the guard
// hands the SDK the bytes directly and lets the body run to its end, as the plain SDK does.

const open: { close(): unknown }[] = [];
afterEach(async () => {
  while (open.length) await open.pop()!.close();
});

// Whole streams whose response ends a little after the terminal frame, as over a real network.
const streams = (text: string) => (path: string) => [
  ...(path.startsWith('/responses') ? responsesStream(text) : chatStream(text)),
  { pause: 20 },
];

async function setup() {
  return scriptedPair({ primary: streams('hi'), fallback: streams('fb') }, {}, open);
}

const chat = { model: 'gpt-test', messages: [{ role: 'user' as const, content: 'hi' }] };

async function chatText(client: OpenAI): Promise<string> {
  let text = '';
  for await (const chunk of await client.chat.completions.create({ ...chat, stream: true })) text += chunk.choices[0]?.delta?.content ?? '';
  return text;
}

describe('stream connections', () => {
  it('streams read to their terminal frame leave their connection to the next call, as with the plain SDK', async () => {
    const { client, primary } = await setup();
    const other = await scriptedUpstream(streams('hi'));
    open.push(other);
    const plain = new OpenAI({ apiKey: 'sk-plain-0123456789', baseURL: other.url });
    for (const sdk of [client, plain]) {
      for (let i = 0; i < 4; i++) expect(await chatText(sdk)).toBe('hi');
      expect(await sdk.chat.completions.stream(chat).finalContent()).toBe('hi');
      const events: string[] = [];
      for await (const event of await sdk.responses.create({ model: 'gpt-test', input: 'hi', stream: true })) events.push(event.type);
      expect(events.at(-1)).toBe('response.completed');
    }
    expect(primary.requests).toHaveLength(6);
    // Cancelling the body at the terminal frame closes the socket: a connection per stream, or
    // more. (openai 7 cancels at `[DONE]` itself, so there the plain SDK opens one per stream.)
    expect(primary.connections).toBeLessThanOrEqual(Math.min(2, other.connections));
  });

  it('a server that keeps the response open after [DONE]: the iteration ends at once, the connection is let go soon after', async () => {
    const { client, primary } = await setup();
    primary.queue([{ write: chatChunk({ content: 'whole' }) + chatChunk({}, 'stop') + 'data: [DONE]\n\n' }, { hang: true }]);
    expect(await chatText(client)).toBe('whole');
    // The socket closes from our side (the server never ends the response).
    await primary.allClosed();
    expect(await chatText(client)).toBe('hi');
  });
});

describe('the body of a stream the SDK reads', () => {
  it('withResponse(): the Stream yields every chunk, and the Response body then reads as used and locked, as plain', async () => {
    const { client } = await setup();
    const { data, response } = await client.chat.completions.create({ ...chat, stream: true }).withResponse();
    expect(response.bodyUsed).toBe(false);
    let text = '';
    for await (const chunk of data) text += chunk.choices[0]?.delta?.content ?? '';
    expect(text).toBe('hi');
    expect(response.bodyUsed).toBe(true);
    expect(response.body!.locked).toBe(true);
  });

  it('a Response body read first: the Stream cannot read it too, and the body has every byte', async () => {
    const { client } = await setup();
    const { data, response } = await client.chat.completions.create({ ...chat, stream: true }).withResponse();
    const text = await new Response(response.body).text();
    expect(text).toContain('"content":"hi"');
    expect(text).toContain('data: [DONE]');
    await expect(
      (async () => {
        for await (const _ of data);
      })(),
    ).rejects.toThrow(/locked/);
  });

  it('a cut stream read through asResponse().body.getReader() ends with IncompleteStreamError after the bytes that came', async () => {
    const { client, primary } = await setup();
    primary.queue([{ write: chatChunk({ role: 'assistant', content: 'part' }) }, { cut: true }]);
    const response = await client.chat.completions.create({ ...chat, stream: true }).asResponse();
    const reader = response.body!.getReader();
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain('"content":"part"');
    await expect(reader.read()).rejects.toBeInstanceOf(IncompleteStreamError);
  });
});
