// What client.fetch cannot send rejects with a TypeError that names the problem (and the value,
// where it prints one) before anything is sent: a host library's misconfiguration shows at once.
import { describe, expect, it } from 'vitest';
import { chat, setup } from '../support/harness.js';
import { CHAT_URL, fetchOf, post } from './support.js';

const API_URL_HINT =
  "is not an OpenAI API URL: it needs a path such as /v1/chat/completions (keep the host library's base URL ending in /v1)";

/** Each case: what the host library passes, and the message after the `resilient-openai: client.fetch(): ` prefix. */
const cases: [label: string, call: (fetch: (...args: unknown[]) => Promise<Response>) => Promise<Response>, message: string][] = [
  ['a URL without /v1', (f) => f('https://api.openai.com/chat/completions'), `"https://api.openai.com/chat/completions" ${API_URL_HINT}`],
  [
    'a /v1 URL with an unknown API path',
    (f) => f('https://api.openai.com/v1/not-an-api'),
    `"https://api.openai.com/v1/not-an-api" ${API_URL_HINT}`,
  ],
  // Resolved as a relative URL, like a path: not an API path.
  ['a string that is no URL', (f) => f('not a url'), `"not a url" ${API_URL_HINT}`],
  // An absolute URL that does not parse is shown without userinfo and query.
  [
    'an absolute URL that does not parse',
    (f) => f('http://u:pw123456@[::1/v1/models?key=sk-abc'),
    '"http://***@[::1/v1/models?…" is not a URL',
  ],
  [
    'a URL with credentials, shown redacted',
    (f) => f('https://u:pw123456@api.openai.com/v2/x?api_key=sk-abcdef1234567890'),
    `"https://***:***@api.openai.com/v2/x?api_key=***" ${API_URL_HINT}`,
  ],
  ['a number as input', (f) => f(42), 'the first argument must be a URL string, a URL or a Request; got number'],
  ['null as input', (f) => f(null), 'the first argument must be a URL string, a URL or a Request; got null'],
  [
    'a GET with a body',
    (f) => f(CHAT_URL, { method: 'GET', body: JSON.stringify(chat) }),
    'a GET request cannot have a body; nothing was sent',
  ],
  [
    'method OPTIONS',
    (f) => f(CHAT_URL, { method: 'OPTIONS' }),
    'method "OPTIONS" is not one the OpenAI API uses (GET, POST, PUT, PATCH, DELETE)',
  ],
  ['method HEAD', (f) => f(CHAT_URL, { method: 'head' }), 'method "head" is not one the OpenAI API uses (GET, POST, PUT, PATCH, DELETE)'],
  [
    'a JSON content type with invalid JSON text',
    (f) => f(CHAT_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' }),
    'the request body is not valid JSON (string body); nothing was sent',
  ],
  [
    'a JSON content type with invalid JSON bytes',
    (f) => f(CHAT_URL, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new TextEncoder().encode('{"model":') }),
    'the request body is not valid JSON (byte body); nothing was sent',
  ],
  [
    'a locked ReadableStream body',
    (f) => {
      const body = new ReadableStream();
      body.getReader();
      return f(CHAT_URL, { method: 'POST', body, duplex: 'half' });
    },
    'the request body stream is locked (already being read); nothing was sent',
  ],
  [
    'a Request whose body was already read',
    async (f) => {
      const request = new Request(CHAT_URL, post(chat));
      await request.text();
      return f(request);
    },
    'the Request body was already read; nothing was sent',
  ],
  [
    'a plain object as body',
    (f) => f(CHAT_URL, { method: 'POST', body: {} }),
    'the request body is of type Object, which fetch() does not send; nothing was sent',
  ],
  [
    'a Map as body',
    (f) => f(CHAT_URL, { method: 'POST', body: new Map() }),
    'the request body is of type Map, which fetch() does not send; nothing was sent',
  ],
];

describe('client.fetch: inputs it cannot send reject before sending', () => {
  for (const [label, call, message] of cases) {
    it(`${label}: a TypeError naming it; no request reaches an upstream`, async () => {
      const { client, primary, fallback } = await setup();
      const error = await call(fetchOf(client) as (...args: unknown[]) => Promise<Response>).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(TypeError);
      expect((error as TypeError).message).toBe(`resilient-openai: client.fetch(): ${message}`);
      expect(primary.count()).toBe(0);
      expect(fallback.count()).toBe(0);
      // Positive control: the same client sends a good request.
      expect((await fetchOf(client)(CHAT_URL, post(chat))).status).toBe(200);
      expect(primary.count()).toBe(1);
    });
  }
});
