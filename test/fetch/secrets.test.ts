// Gateways that echo the request they got: nothing client.fetch hands the caller (status text,
// headers, body, rejection and its cause) may repeat either endpoint's key.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { chat, clientFor, FALLBACK_KEY, PRIMARY_KEY, track } from '../support/harness.js';
import { CHAT_URL, fetchOf, post } from './support.js';

type Echoing = 'page' | 'status-text' | 'error-frame' | 'content-type';

/** Every place the key (the bearer token it got) was echoed, as sent: the positive control. */
interface Echo {
  url: string;
  sent: string[];
  close(): Promise<void>;
}

/** An upstream that echoes the bearer token it got in one place of its answer. */
async function echo(where: Echoing): Promise<Echo> {
  const sent: string[] = [];
  const server = createServer((req, res) => {
    req.resume();
    const token = String(req.headers.authorization).replace(/^Bearer /, '');
    const values = Object.values(req.headers).join(' ');
    if (where === 'page') {
      sent.push(values);
      res.writeHead(502, {
        'content-type': 'text/html',
        'x-echo': token,
        'www-authenticate': `Bearer error="invalid_token" token="${token}"`,
      });
      return void res.end(`<html><body><h1>502 Bad Gateway</h1><p>${values}</p></body></html>`);
    }
    if (where === 'status-text') {
      sent.push(`Bad Gateway for ${token}`);
      return void res.writeHead(502, `Bad Gateway for ${token}`, { 'content-type': 'text/plain' }).end('bad gateway');
    }
    if (where === 'error-frame') {
      sent.push(token);
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-echo': token });
      return void res.end(`data: ${JSON.stringify({ error: { message: `token ${token} refused`, type: 'server_error' } })}\n\n`);
    }
    sent.push(`text/${token}`);
    res.writeHead(200, { 'content-type': `text/${token}` }).end('not a stream');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    sent,
    close: () => new Promise<void>((resolve) => (server.closeAllConnections(), server.close(() => resolve()))),
  };
}

/** Both endpoints echo; the client fetch over them. */
async function echoing(where: Echoing) {
  const primary = track(await echo(where));
  const fallback = track(await echo(where));
  const retry = { initialDelayMs: 1, maxDelayMs: 5 };
  const client = track(clientFor(primary, { fallback: { apiKey: FALLBACK_KEY, baseURL: fallback.url }, retry }));
  return { primary, fallback, fetch: fetchOf(client) };
}

/** The keys found in a text. */
const keysIn = (text: string) => [PRIMARY_KEY, FALLBACK_KEY].filter((key) => text.includes(key));

/** Everything of a Response a caller can read. */
async function everything(response: Response): Promise<string> {
  return [response.statusText, ...[...response.headers].map(([name, value]) => `${name}: ${value}`), await response.text()].join('\n');
}

describe('client.fetch: echoed keys never reach the caller', () => {
  it('an error page and headers echoing the request: the 502 comes back, without a key', async () => {
    const { primary, fallback, fetch } = await echoing('page');
    const response = await fetch(CHAT_URL, post(chat));
    expect(response.status).toBe(502);
    expect(response.headers.get('x-echo')).toBe('[redacted]');
    expect(keysIn(await everything(response))).toEqual([]);
    // Positive control: each gateway did echo its key.
    expect(keysIn(primary.sent.join())).toEqual([PRIMARY_KEY]);
    expect(keysIn(fallback.sent.join())).toEqual([FALLBACK_KEY]);
  });

  it('a status text echoing the token: the statusText is scrubbed too', async () => {
    const { primary, fetch } = await echoing('status-text');
    const response = await fetch(CHAT_URL, post(chat));
    expect(response.status).toBe(502);
    expect(keysIn(primary.sent.join())).toEqual([PRIMARY_KEY]);
    expect(response.statusText).toBe('Bad Gateway for [redacted]');
  });

  it("a stream's error frame echoing the token: the Response made of it holds no key", async () => {
    const { primary, fallback, fetch } = await echoing('error-frame');
    const response = await fetch(CHAT_URL, post({ ...chat, stream: true }));
    // Both endpoints sent a 200 with an error frame before any output: the last one comes back as sent.
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/event-stream');
    expect(keysIn(await everything(response))).toEqual([]);
    expect(primary.sent.length + fallback.sent.length).toBe(3);
  });

  it('a failure without an HTTP answer whose message would quote the echo: neither the rejection nor its cause holds a key', async () => {
    const { primary, fetch } = await echoing('content-type');
    const error = await fetch(CHAT_URL, post({ ...chat, stream: true })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TypeError);
    expect((error as TypeError).message).toBe('fetch failed');
    expect(keysIn(primary.sent.join())).toEqual([PRIMARY_KEY]);
    expect(keysIn(String((error as { cause: Error }).cause.message))).toEqual([]);
  });
});
