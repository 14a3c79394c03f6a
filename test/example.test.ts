import { describe, it, expect, beforeEach, afterEach, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { ResilientOpenAI } from '../src/index.js';
import { createApp, liveFeedOf, type AppOptions } from '../examples/express-status-routes.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const PRIMARY_KEY = 'sk-test-primary-0123456789abcdef';
const FALLBACK_KEY = 'sk-test-fallback-0123456789abcdef';
const TOKEN = 'check-token-0123456789';
const AUTH = { authorization: `Bearer ${TOKEN}` };
const ROOT = fileURLToPath(new URL('..', import.meta.url));

let primary: Upstream;
let fallback: Upstream;
let client: ResilientOpenAI;
let app: ReturnType<typeof createApp>;
let base: string;
let logs: string[];
// Every response body of the test, checked for keys in afterEach.
let bodies: string[];
let servers: Server[];

async function call(method: 'GET' | 'POST', path: string, body?: unknown, raw?: string) {
  const init: RequestInit = { method };
  if (body !== undefined || raw !== undefined) {
    init.body = raw ?? JSON.stringify(body);
    init.headers = { 'content-type': 'application/json' };
  }
  const res = await fetch(base + path, init);
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, json: JSON.parse(text) as Record<string, unknown> };
}

/** POST /api/check-main-api, with the right token unless told otherwise; also returns the headers. */
async function checkWith(headers: Record<string, string>, url = base) {
  const res = await fetch(`${url}/api/check-main-api`, { method: 'POST', headers });
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, json: JSON.parse(text) as Record<string, unknown>, headers: res.headers };
}

const check = async (url = base) => {
  const { status, json } = await checkWith(AUTH, url);
  return { status, json };
};

async function listen(app: ReturnType<typeof createApp>): Promise<string> {
  const extra = createServer(app);
  servers.push(extra);
  await new Promise<void>((resolve) => extra.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(extra.address() as AddressInfo).port}`;
}

/** Another app on the same client, e.g. with other options. */
const startApp = (options: AppOptions) => listen(createApp(client, { log: (line) => logs.push(line), ...options }));

interface SseMessage {
  event: string;
  data: any;
  id?: string;
}

/** A reader of `GET /api/events`: `next()` is the next event, `until(test)` skips to a matching one. */
async function openEvents(url = base) {
  const controller = new AbortController();
  const res = await fetch(`${url}/api/events`, { signal: controller.signal });
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  const next = async (): Promise<SseMessage> => {
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end !== -1) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const message: Partial<SseMessage> = {};
        for (const line of block.split('\n')) {
          const [field, value] = [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trimStart()];
          if (field === 'event') message.event = value;
          if (field === 'data') message.data = JSON.parse(value);
          if (field === 'id') message.id = value;
        }
        if (message.event) return message as SseMessage;
        continue; // a comment or a bare `retry:`
      }
      const { value, done } = await reader.read();
      if (done) throw new Error('event stream ended');
      bodies.push(value);
      buffer += value;
    }
  };
  const until = async (test: (m: SseMessage) => boolean) => {
    for (;;) {
      const message = await next();
      if (test(message)) return message;
    }
  };
  return { res, next, until, close: () => controller.abort() };
}

beforeEach(async () => {
  logs = [];
  bodies = [];
  primary = await startUpstream({ name: 'primary' });
  fallback = await startUpstream({ name: 'fallback' });
  client = new ResilientOpenAI({
    apiKey: PRIMARY_KEY,
    baseURL: primary.url,
    fallback: { apiKey: FALLBACK_KEY, baseURL: fallback.url },
    healthCheck: false,
    retry: { initialDelayMs: 1 },
  });
  servers = [];
  app = createApp(client, { log: (line) => logs.push(line), checkToken: TOKEN });
  base = await listen(app);
});

afterEach(async () => {
  vi.useRealTimers();
  vi.restoreAllMocks();
  client.close();
  for (const each of servers) {
    await new Promise<void>((resolve) => {
      each.close(() => resolve());
      each.closeAllConnections();
    });
  }
  await Promise.all([primary.close(), fallback.close()]);
  for (const text of bodies) {
    expect(text).not.toContain(PRIMARY_KEY);
    expect(text).not.toContain(FALLBACK_KEY);
  }
  for (const line of logs) expect(line).not.toMatch(/sk-test/);
});

describe('examples/express-status-routes.ts', () => {
  it('GET /api/status has the classic shape, before and after a 502', async () => {
    const before = await call('GET', '/api/status');
    expect(before.status).toBe(200);
    expect(before.json).toEqual({
      mainApi: primary.url,
      fallbackApi: fallback.url,
      isMainApiAvailable: true,
      activeEndpoint: 'primary',
      lastCheckedAt: null,
    });

    primary.setFault({ kind: 'bad-gateway' });
    expect((await call('POST', '/api/images', { prompt: 'a cat' })).status).toBe(200);

    const after = await call('GET', '/api/status');
    expect(after.json).toEqual({
      mainApi: primary.url,
      fallbackApi: fallback.url,
      isMainApiAvailable: false,
      activeEndpoint: 'fallback',
      lastCheckedAt: null,
    });
  });

  it('POST /api/images fails over to the fallback when the primary answers 502', async () => {
    primary.setFault({ kind: 'bad-gateway' });
    const res = await call('POST', '/api/images', { prompt: 'a lighthouse' });
    expect(res).toEqual({ status: 200, json: { url: 'https://example.invalid/fallback.png', endpoint: 'fallback' } });
    expect(primary.count('/images/generations')).toBe(1);
    expect(fallback.count('/images/generations')).toBe(1);
    expect(fallback.requests[0]?.json).toMatchObject({ model: 'dall-e-3', prompt: 'a lighthouse', n: 1, size: '1024x1024' });
    expect(fallback.requests[0]?.headers['authorization']).toBe(`Bearer ${FALLBACK_KEY}`);
    expect(logs).toContain('[resilient-openai] switched primary -> fallback (error: 502)');
  });

  it('POST /api/check-main-api reports the primary down, then up, and traffic returns to it', async () => {
    primary.setFault({ kind: 'bad-gateway' });
    await call('POST', '/api/images', { prompt: 'first' });

    const down = await check();
    expect(down).toEqual({
      status: 200,
      json: { success: true, isMainApiAvailable: false, message: 'Primary API is unavailable; using the fallback' },
    });
    expect(logs).toContainEqual(expect.stringMatching(/^\[resilient-openai\] healthcheck primary: failed \(502\) in \d+ms$/));

    primary.setFault(null);
    // Hysteresis: one healthy check is not enough to send traffic back (breaker.successThreshold 2).
    const answered = await check();
    expect(answered).toEqual({
      status: 200,
      json: { success: true, isMainApiAvailable: false, message: 'Primary API answered; traffic returns to it after more healthy checks' },
    });
    expect(logs).not.toContain('[resilient-openai] switched fallback -> primary (recovered)');
    const up = await check();
    expect(up).toEqual({ status: 200, json: { success: true, isMainApiAvailable: true, message: 'Primary API is available' } });
    expect(logs).toContain('[resilient-openai] switched fallback -> primary (recovered)');
    expect(logs).toContainEqual(expect.stringMatching(/^\[resilient-openai\] primary recovered after \d+ms$/));

    const status = await call('GET', '/api/status');
    expect(status.json).toMatchObject({ isMainApiAvailable: true, activeEndpoint: 'primary' });
    expect(typeof status.json.lastCheckedAt).toBe('string');

    const image = await call('POST', '/api/images', { prompt: 'second' });
    expect(image.json).toEqual({ url: 'https://example.invalid/primary.png', endpoint: 'primary' });
    expect(primary.count('/images/generations')).toBe(2);
    expect(fallback.count('/images/generations')).toBe(1);
  });

  it('a failed manual check while the primary is active switches to the fallback', async () => {
    primary.setFault({ kind: 'bad-gateway' });
    const res = await check();
    expect(res.json).toMatchObject({ success: true, isMainApiAvailable: false });
    expect(logs).toContain('[resilient-openai] switched primary -> fallback (healthcheck: 502)');
    expect((await call('GET', '/api/status')).json).toMatchObject({ activeEndpoint: 'fallback' });
  });

  it('POST /api/check-main-api answers 500 without details on an unexpected exception', async () => {
    vi.spyOn(client, 'checkPrimary').mockRejectedValue(new Error(`boom ${PRIMARY_KEY}`));
    const res = await check();
    expect(res.status).toBe(500);
    expect(res.json).toEqual({ success: false, message: expect.any(String) });
  });

  it('POST /api/images answers 400 without a prompt, and on malformed JSON', async () => {
    for (const body of [{}, { prompt: '' }, { prompt: 42 }]) {
      const res = await call('POST', '/api/images', body);
      expect(res.status).toBe(400);
      expect(res.json).toEqual({ error: expect.any(String) });
    }
    const noBody = await call('POST', '/api/images');
    expect(noBody.status).toBe(400);
    const malformed = await call('POST', '/api/images', undefined, '{"prompt":');
    expect(malformed).toEqual({ status: 400, json: { error: 'Bad request' } });
    expect(primary.count() + fallback.count()).toBe(0);
  });

  it('a 401 from the primary is propagated as 401 without failover', async () => {
    primary.setFault({ kind: 'status', status: 401 });
    const res = await call('POST', '/api/images', { prompt: 'a cat' });
    expect(res.status).toBe(401);
    expect(res.json).toEqual({ error: '401 Injected 401 from primary' });
    expect(primary.count('/images/generations')).toBe(1);
    expect(fallback.count()).toBe(0);
    expect((await call('GET', '/api/status')).json).toMatchObject({ isMainApiAvailable: true, activeEndpoint: 'primary' });
  });

  it('never forwards a key an upstream echoes in its error', async () => {
    const echo = JSON.stringify({ error: { message: `Incorrect API key provided: ${PRIMARY_KEY}. Header was Bearer ${PRIMARY_KEY}` } });
    primary.setFault({ kind: 'status', status: 401, body: echo });
    const res = await call('POST', '/api/images', { prompt: 'a cat' });
    expect(res.status).toBe(401);
    expect(res.json.error).toMatch(/^401 Incorrect API key provided: sk-\*\*\*/);
  });

  it('answers 502 when every endpoint is down', async () => {
    primary.setFault({ kind: 'bad-gateway' });
    fallback.setFault({ kind: 'bad-gateway' });
    const res = await call('POST', '/api/images', { prompt: 'a cat' });
    expect(res.status).toBe(502);
    expect(res.json).toEqual({ error: '502 Bad Gateway' }); // the status line, not nginx's HTML page
  });
});

describe('POST /api/check-main-api: token and rate limit', () => {
  it('answers 401 without the right bearer token, and probes nothing', async () => {
    const cases: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token' },
      { authorization: `Bearer ${TOKEN}x` },
      { authorization: `Bearer ${TOKEN.slice(0, -1)}` },
      { authorization: `Basic ${TOKEN}` },
      { authorization: TOKEN },
      { authorization: 'Bearer ' },
    ];
    for (const headers of cases) {
      const res = await checkWith(headers);
      expect(res.status, JSON.stringify(headers)).toBe(401);
      expect(res.json).toEqual({ success: false, message: expect.any(String) });
      expect(res.headers.get('www-authenticate')).toBe('Bearer');
      expect(JSON.stringify(res.json)).not.toContain(TOKEN);
    }
    expect(primary.count()).toBe(0);
    // The scheme is case-insensitive, as HTTP says.
    expect((await checkWith({ authorization: `bearer ${TOKEN}` })).status).toBe(200);
  });

  it('answers 503 when no token is configured (secure by default)', async () => {
    for (const checkToken of [undefined, '']) {
      const url = await startApp({ checkToken });
      for (const headers of [{}, AUTH]) {
        const res = await checkWith(headers, url);
        expect(res).toMatchObject({ status: 503, json: { success: false, message: 'check disabled: set STATUS_CHECK_TOKEN' } });
      }
    }
    expect(primary.count()).toBe(0);
  });

  it('answers 429 with Retry-After past the limit; wrong tokens do not use it up; a new window allows more', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2026-01-01T00:00:00Z'));
    const url = await startApp({ checkToken: TOKEN, checkRateLimit: { max: 2, windowMs: 60_000 } });
    expect((await checkWith({ authorization: 'Bearer nope' }, url)).status).toBe(401);
    expect((await check(url)).status).toBe(200);
    vi.setSystemTime(new Date('2026-01-01T00:00:20Z'));
    expect((await check(url)).status).toBe(200);
    const limited = await checkWith(AUTH, url);
    expect(limited.status).toBe(429);
    expect(limited.json).toEqual({ success: false, message: 'too many checks; retry in 40s' });
    expect(limited.headers.get('retry-after')).toBe('40');
    expect(primary.count('/models')).toBe(2);
    // Another app has its own budget: the default, 6 a minute, from its first check.
    for (let i = 0; i < 6; i++) expect((await check()).status).toBe(200);
    expect((await checkWith(AUTH)).headers.get('retry-after')).toBe('60');

    vi.setSystemTime(new Date('2026-01-01T00:01:00Z'));
    expect(await check(url)).toMatchObject({ status: 200, json: { success: true, isMainApiAvailable: true } });
  });
});

describe('live feed: /api/events, /api/timeline, /api/status?detail=full', () => {
  it('GET /api/events sends a status event first, then the switch, then a fresh status', async () => {
    const events = await openEvents();
    expect(events.res.status).toBe(200);
    expect(events.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(events.res.headers.get('cache-control')).toMatch(/no-cache/);
    const first = await events.next();
    expect(first.event).toBe('status');
    expect(first.data).toMatchObject({ mainApi: primary.url, activeEndpoint: 'primary', isMainApiAvailable: true });
    expect(first.data.endpoints.map((e: { name: string; active: boolean }) => [e.name, e.active])).toEqual([['primary', true], ['fallback', false]]);

    primary.setFault({ kind: 'bad-gateway' });
    await call('POST', '/api/images', { prompt: 'a cat' });
    const breaker = await events.next();
    expect(breaker).toMatchObject({ event: 'breaker', data: { type: 'breaker', endpoint: 'primary', state: 'open', previous: 'closed' } });
    const switched = await events.next();
    expect(switched.event).toBe('switched');
    expect(switched.data).toEqual({ id: expect.any(Number), at: expect.any(String), type: 'switched', from: 'primary', to: 'fallback', reason: 'error', error: '502' });
    expect(switched.id).toBe(String(switched.data.id));
    const status = await events.until((m) => m.event === 'status');
    expect(status.data).toMatchObject({ activeEndpoint: 'fallback', isMainApiAvailable: false });
    // The upstream's 502 page is reduced to its status and class.
    expect(status.data.endpoints[0]).toMatchObject({ name: 'primary', state: 'open', lastError: '502 InternalServerError', consecutiveFailures: 1 });

    const probe = check();
    const health = await events.until((m) => m.event === 'healthcheck');
    expect(health.data).toEqual({ id: expect.any(Number), at: expect.any(String), type: 'healthcheck', endpoint: 'primary', ok: false, latencyMs: expect.any(Number), error: '502' });
    await probe;
    events.close();
    expect(bodies.join('')).not.toMatch(/nginx|<html|Bad Gateway/i);
  });

  it('GET /api/timeline keeps recent switches, recoveries, breaker changes and checks, oldest first', async () => {
    expect((await call('GET', '/api/timeline')).json).toEqual({ timeline: [], healthchecks: [] });
    primary.setFault({ kind: 'bad-gateway' });
    await call('POST', '/api/images', { prompt: 'a cat' });
    await check();
    primary.setFault(null);
    await check();
    await check();

    const { json } = await call('GET', '/api/timeline');
    const timeline = json.timeline as { type: string; id: number; at: string }[];
    const checks = json.healthchecks as { ok: boolean; error?: string; id: number }[];
    expect(timeline.map(({ id: _id, at: _at, ...rest }) => rest)).toEqual([
      { type: 'breaker', endpoint: 'primary', state: 'open', previous: 'closed' },
      { type: 'switched', from: 'primary', to: 'fallback', reason: 'error', error: '502' },
      { type: 'breaker', endpoint: 'primary', state: 'half-open', previous: 'open' },
      { type: 'breaker', endpoint: 'primary', state: 'closed', previous: 'half-open' },
      { type: 'recovered', endpoint: 'primary', downtimeMs: expect.any(Number) },
      { type: 'switched', from: 'fallback', to: 'primary', reason: 'recovered' },
    ]);
    expect(checks.map((c) => [c.ok, c.error])).toEqual([[false, '502'], [true, undefined], [true, undefined]]);
    const ids = [...timeline, ...checks].map((e) => e.id).sort((a, b) => a - b);
    expect(new Set(ids).size).toBe(ids.length);
    for (const e of timeline) expect(Number.isNaN(Date.parse(e.at))).toBe(false);
  });

  it('GET /api/timeline is a ring buffer of historySize entries per list', async () => {
    const url = await startApp({ checkToken: TOKEN, historySize: 2 });
    for (let i = 0; i < 4; i++) await check(url);
    const res = await fetch(`${url}/api/timeline`);
    const json = (await res.json()) as { healthchecks: { id: number }[]; timeline: unknown[] };
    expect(json.healthchecks).toHaveLength(2);
    expect(json.healthchecks[0]!.id).toBeLessThan(json.healthchecks[1]!.id);
    expect(json.timeline).toEqual([]);
  });

  it('GET /api/status?detail=full is the whole snapshot, without upstream text', async () => {
    primary.setFault({ kind: 'bad-gateway' });
    await call('POST', '/api/images', { prompt: 'a cat' });
    const { json } = await call('GET', '/api/status?detail=full');
    expect(json).toMatchObject({ mainApi: primary.url, fallbackApi: fallback.url, activeEndpoint: 'fallback', healthCheck: { enabled: false } });
    const [p, f] = json.endpoints as Record<string, unknown>[];
    expect(p).toMatchObject({ name: 'primary', baseURL: primary.url, state: 'open', active: false, lastError: '502 InternalServerError' });
    expect(f).toMatchObject({ name: 'fallback', state: 'closed', active: true, lastError: null });
    expect(JSON.stringify(json)).not.toMatch(/nginx|<html/);
    // The classic route keeps its shape.
    expect(Object.keys((await call('GET', '/api/status')).json)).toEqual(['mainApi', 'fallbackApi', 'isMainApiAvailable', 'activeEndpoint', 'lastCheckedAt']);
  });

  it('adds no client listener per event stream, and forgets streams that disconnect', async () => {
    const on = vi.spyOn(client, 'on');
    const once = vi.spyOn(client, 'once');
    const streams = await Promise.all(Array.from({ length: 20 }, () => openEvents()));
    await Promise.all(streams.map((s) => s.next()));
    expect(liveFeedOf(app).connections()).toBe(20);
    for (const s of streams) s.close();
    await vi.waitFor(() => expect(liveFeedOf(app).connections()).toBe(0), { timeout: 5000, interval: 10 });
    expect(on).not.toHaveBeenCalled();
    expect(once).not.toHaveBeenCalled();

    // Events after the disconnects reach nobody and break nothing; a new stream still works.
    primary.setFault({ kind: 'bad-gateway' });
    expect((await call('POST', '/api/images', { prompt: 'a cat' })).json).toMatchObject({ endpoint: 'fallback' });
    const fresh = await openEvents();
    expect(await fresh.next()).toMatchObject({ event: 'status', data: { activeEndpoint: 'fallback' } });
    await check();
    expect(await fresh.until((m) => m.event === 'healthcheck')).toMatchObject({ data: { ok: false, error: '502' } });
    fresh.close();
    await vi.waitFor(() => expect(liveFeedOf(app).connections()).toBe(0), { timeout: 5000, interval: 10 });
  });

  it('liveFeed.close() ends every stream (for a clean shutdown)', async () => {
    const events = await openEvents();
    await events.next();
    liveFeedOf(app).close();
    expect(liveFeedOf(app).connections()).toBe(0);
    await expect(events.next()).rejects.toThrow('event stream ended');
  });
});

describe('GET /status/: the status page', () => {
  it('serves the page, its script and its stylesheet, with a strict CSP', async () => {
    const redirect = await fetch(`${base}/status`, { redirect: 'manual' });
    expect(redirect.status).toBe(301);
    expect(redirect.headers.get('location')).toBe('/status/');

    const page = await fetch(`${base}/status/`);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await page.text();
    expect(html).toContain('<script type="module" src="app.js"></script>');
    expect(html).toMatch(/aria-live="polite"/);

    const script = await fetch(`${base}/status/app.js`);
    expect(script.headers.get('content-type')).toMatch(/javascript/);
    const js = await script.text();
    expect(js).toContain("new EventSource('/api/events')");
    expect(js).not.toMatch(/innerHTML|\bimport\b.*from/); // text only, and no dependencies
    expect((await fetch(`${base}/status/style.css`)).headers.get('content-type')).toMatch(/^text\/css/);
  });
});

describe('examples/demo.ts', () => {
  it('runs end to end as a child process, shows the switch and the recovery, and prints no key', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'examples/demo.ts'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });

    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('[resilient-openai] switched primary -> fallback (error: 502)');
    expect(stdout).toContain('"endpoint": "fallback"');
    expect(stdout).toMatch(/\[resilient-openai\] primary recovered after \d+ms/);
    expect(stdout).toContain('[resilient-openai] switched fallback -> primary (recovered)');
    expect(stdout).toContain('"endpoint": "primary"');
    for (const output of [stdout, stderr]) {
      expect(output).not.toContain('sk-demo-primary');
      expect(output).not.toContain('sk-demo-fallback');
    }
  }, 60_000);
});
