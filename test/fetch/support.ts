/** What the client.fetch tests share: the fetch itself, request inits as a host library builds them, the SSE an upstream sends. */
import type OpenAI from 'openai';
import { chatReply } from '../support/upstream/chat.js';

/** A host library's URL: its own origin, which client.fetch replaces with the endpoint's. */
export const CHAT_URL = 'https://api.openai.com/v1/chat/completions';

/** The SDK declares `fetch` private; at runtime it is the client's own, bound fetch. */
export const fetchOf = (client: OpenAI) => client['fetch'] as typeof globalThis.fetch;

/** Counts reads of `client.fetch` from now on, the value unchanged: proof that a code path never touches it. */
export function countFetchReads(client: OpenAI): () => number {
  const value = fetchOf(client);
  let reads = 0;
  Object.defineProperty(client, 'fetch', {
    configurable: true,
    enumerable: true,
    get: () => {
      reads++;
      return value;
    },
  });
  return () => reads;
}

/** A JSON POST, as host libraries send one. */
export function post(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) };
}

/**
 * The exact SSE text upstream `name` sends as its `n`-th answer to a streaming chat `body`, with
 * `created` (the clock's second) zeroed: compare it with {@link sameClock} of what arrived.
 */
export function chatSSE(name: string, n: number, body: Record<string, unknown>): string {
  const reply = chatReply(name, n, { ...body, stream: true });
  if (reply.kind !== 'sse') throw new Error('a streaming chat reply is SSE');
  return sameClock(reply.events.map((e) => `data: ${JSON.stringify(e.data)}\n\n`).join('') + 'data: [DONE]\n\n');
}

export const sameClock = (text: string) => text.replace(/"created":\d+/g, '"created":0');
