// A proxy whose 502 page echoes the request it got: every credential the client holds or sends,
// configured one kind at a time, must stay out of the status, the debug log and the events.
import { randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { format } from 'node:util';
import createDebug from 'debug';
import { AzureOpenAI, OpenAI } from 'openai';
import { VERSION } from 'openai/version';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ResilientOpenAI, type ResilientOptions } from '../src/index.js';
import { chat, record, track } from './support/harness.js';

const secret = (kind: string) => `${kind}${randomBytes(10).toString('hex')}`;
const basic = (user: string, password: string) => Buffer.from(`${user}:${password}`).toString('base64');

interface Echo {
  url: string;
  /** Every page the echo served, as sent: the positive control. */
  pages: string[];
  close(): Promise<void>;
}

/**
 * Answers every request with a 502 page listing every query value and every header value, the
 * headers sent last first (the SDK sends credentials after its own headers, so they fall inside
 * the 300 characters a status shows), each value without its auth scheme, as a gateway that
 * checked the token shows it (so the `Bearer …` pattern cannot hide a missing collection).
 */
async function echoUpstream(): Promise<Echo> {
  const pages: string[] = [];
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://echo');
    const values = [...url.searchParams.values()];
    for (let i = req.rawHeaders.length - 1; i > 0; i -= 2) values.push(req.rawHeaders[i]!.replace(/^(Bearer|Basic|Token)\s+/i, ''));
    const page = `<html><body><h1>502 Bad Gateway</h1><p>${values.join(' ')}</p></body></html>`;
    pages.push(page);
    req.resume();
    res.writeHead(502, { 'content-type': 'text/html' }).end(page);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    pages,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

interface Scenario {
  name: string;
  /** Only these strings are secrets here; each must reach the echo. */
  secrets: string[];
  options(echo: Echo): Partial<ResilientOptions>;
  /** Request options of the calls (per-request credentials). */
  request?: { headers: Record<string, string> };
}

// Base64 (or a key function's results) exist only once the scenario is built: `secrets` is filled then.
function scenarios(): Scenario[] {
  const key = secret('apikey');
  const list: Scenario[] = [
    { name: 'apiKey string', secrets: [key], options: () => ({ apiKey: key }) },
    ...(['api-key', 'x-api-key', 'authorization', 'proxy-authorization'] as const).map((header) => {
      const value = secret(header.replace(/-/g, ''));
      const sent = header.endsWith('authorization') ? `Token ${value}` : value;
      return { name: `defaultHeaders ${header}`, secrets: [value], options: () => ({ defaultHeaders: { [header]: sent } }) };
    }),
    (() => {
      const [session, csrf] = [secret('session'), secret('csrf')];
      return {
        name: 'defaultHeaders cookie',
        secrets: [session, csrf],
        options: () => ({ defaultHeaders: { cookie: `session=${session}; csrf=${csrf}` } }),
      };
    })(),
    (() => {
      const [user, password] = [secret('user'), secret('password')];
      return {
        name: 'defaultHeaders proxy-authorization Basic',
        secrets: [basic(user, password)],
        options: () => ({ defaultHeaders: { 'proxy-authorization': `Basic ${basic(user, password)}` } }),
      };
    })(),
    ...(['key', 'api-key', 'token', 'sig'] as const).map((param) => {
      const value = secret(param.replace(/-/g, ''));
      return { name: `defaultQuery ${param}`, secrets: [value], options: () => ({ defaultQuery: { [param]: value } }) };
    }),
    (() => {
      // Node's fetch refuses userinfo; a client's own fetch (or an agent) turns it into Basic auth.
      const [user, password] = [secret('user'), secret('password')];
      const fetch: typeof globalThis.fetch = (input, init) => {
        const url = new URL(input instanceof Request ? input.url : input);
        const headers = new Headers(init?.headers);
        headers.set('authorization', `Basic ${basic(decodeURIComponent(url.username), decodeURIComponent(url.password))}`);
        url.username = url.password = '';
        return globalThis.fetch(url, { ...init, headers });
      };
      return {
        name: 'baseURL userinfo',
        secrets: [basic(user, password)],
        options: (echo: Echo) => ({ baseURL: echo.url.replace('http://', `http://${user}:${password}@`), fetch }),
      };
    })(),
    (() => {
      const value = secret('perrequest');
      return { name: 'per-request header', secrets: [value], options: () => ({}), request: { headers: { 'x-api-key': value } } };
    })(),
  ];
  return list;
}

describe('secrets echoed by a 502 page never reach status, logs or events', () => {
  const lines: string[] = [];
  const originalLog = createDebug.log;
  beforeAll(() => {
    createDebug.enable('resilient-openai');
    createDebug.log = (...args: unknown[]) => lines.push(format(...args));
  });
  afterAll(() => {
    createDebug.disable();
    createDebug.log = originalLog;
  });
  afterEach(() => {
    lines.length = 0;
  });

  async function run(options: Partial<ResilientOptions>, echo: Echo, request?: { headers: Record<string, string> }) {
    const client = track(
      new ResilientOpenAI({
        apiKey: secret('primarykey'),
        baseURL: echo.url,
        fallback: { apiKey: secret('fallbackkey'), baseURL: echo.url },
        healthCheck: false,
        retry: { initialDelayMs: 1, maxDelayMs: 2 },
        ...options,
      }),
    );
    const events = record(client);
    const error = await client.chat.completions.create(chat, request).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.APIError);
    await client.checkPrimary();
    expect(events.retry.length).toBeGreaterThan(0);
    expect(events.switched.length).toBeGreaterThan(0);
    expect(events.breaker.length).toBeGreaterThan(0);
    expect(events.healthcheck.length).toBe(1);
    return { client, events };
  }

  /** What the library produced: the status, the debug log, and the events less the SDK's own error objects. */
  function produced(client: ResilientOpenAI, events: ReturnType<typeof record>): string {
    const status = JSON.stringify(client.getStatus());
    expect(status).toContain('[redacted]');
    const texts = JSON.stringify(events, (key, value: unknown) => (key === 'error' ? undefined : value));
    return [status, texts, ...lines].join('\n');
  }

  function expectClean(text: string, secrets: readonly string[], pages: readonly string[]) {
    expect(lines.some((line) => line.includes('[redacted]'))).toBe(true);
    for (const value of secrets) {
      // Positive control: the echo carried it, inside what a status line shows.
      expect(pages.some((page) => page.slice(0, 260).includes(value))).toBe(true);
      expect(text).not.toContain(value);
    }
  }

  for (const scenario of scenarios()) {
    it(`${scenario.name}`, async () => {
      const echo = track(await echoUpstream());
      const { client, events } = await run(scenario.options(echo), echo, scenario.request);
      expectClean(produced(client, events), scenario.secrets, echo.pages);
    });
  }

  // Every supported openai (key functions arrived in 5.18) calls one per request; the name shows
  // which openai ran it, so the openai 7 leg (scripts/test-openai7.sh) visibly runs it too.
  it(`apiKey function on openai ${VERSION}: every key it returns (a new one per call) is redacted`, async () => {
    const echo = track(await echoUpstream());
    const keys: string[] = [];
    const apiKey = () => {
      keys.push(secret(`keyfn${keys.length}x`));
      return Promise.resolve(keys.at(-1)!);
    };
    const { client, events } = await run({ apiKey }, echo);
    expect(keys.length).toBeGreaterThan(1);
    expectClean(produced(client, events), keys, echo.pages);
  });

  it('AzureOpenAI fallback with an api key, and with an Azure AD token provider', async () => {
    const echo = track(await echoUpstream());
    const azureKey = secret('azurekey');
    const tokens: string[] = [];
    const azureADTokenProvider = () => {
      tokens.push(secret(`adtoken${tokens.length}x`));
      return Promise.resolve(tokens.at(-1)!);
    };
    const azure = (auth: { apiKey: string } | { azureADTokenProvider: () => Promise<string> }) =>
      new AzureOpenAI({ ...auth, baseURL: echo.url.replace('/v1', '/openai'), apiVersion: '2024-10-21' });
    const primaryKey = secret('primarykey');
    const { client, events } = await run(
      { apiKey: primaryKey, fallback: [{ name: 'azure-key', client: azure({ apiKey: azureKey }) }, azure({ azureADTokenProvider })] },
      echo,
    );
    expect(client.getStatus().endpoints.map((e) => e.lastError === null)).toEqual([false, false, false]);
    expect(tokens.length).toBeGreaterThan(0);
    expectClean(produced(client, events), [primaryKey, azureKey, ...tokens], echo.pages);
  });
});
