/** The live feed (examples/live-feed.ts) and the status page, served by the Express example. */
import { describe, it, expect, vi } from 'vitest';
import { liveFeedOf } from '../examples/live-feed.js';
import { TOKEN, app, base, bodies, call, check, client, fallback, primary, startApp, useExampleApp } from './support/example-app.js';

useExampleApp();

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

describe('live feed: /api/events, /api/timeline, /api/status?detail=full', () => {
  it('GET /api/events sends a status event first, then the switch, then a fresh status', async () => {
    const events = await openEvents();
    expect(events.res.status).toBe(200);
    expect(events.res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(events.res.headers.get('cache-control')).toMatch(/no-cache/);
    const first = await events.next();
    expect(first.event).toBe('status');
    expect(first.data).toMatchObject({ mainApi: primary.url, activeEndpoint: 'primary', isMainApiAvailable: true });
    expect(first.data.endpoints.map((e: { name: string; active: boolean }) => [e.name, e.active])).toEqual([
      ['primary', true],
      ['fallback', false],
    ]);

    primary.setFault({ kind: 'bad-gateway' });
    await call('POST', '/api/images', { prompt: 'a cat' });
    const breaker = await events.next();
    expect(breaker).toMatchObject({ event: 'breaker', data: { type: 'breaker', endpoint: 'primary', state: 'open', previous: 'closed' } });
    const switched = await events.next();
    expect(switched.event).toBe('switched');
    expect(switched.data).toEqual({
      id: expect.any(Number),
      at: expect.any(String),
      type: 'switched',
      from: 'primary',
      to: 'fallback',
      reason: 'error',
      error: '502',
    });
    expect(switched.id).toBe(String(switched.data.id));
    const status = await events.until((m) => m.event === 'status');
    expect(status.data).toMatchObject({ activeEndpoint: 'fallback', isMainApiAvailable: false });
    // The upstream's 502 page is reduced to its status and class.
    expect(status.data.endpoints[0]).toMatchObject({
      name: 'primary',
      state: 'open',
      lastError: '502 InternalServerError',
      consecutiveFailures: 1,
    });

    const probe = check();
    const health = await events.until((m) => m.event === 'healthcheck');
    expect(health.data).toEqual({
      id: expect.any(Number),
      at: expect.any(String),
      type: 'healthcheck',
      endpoint: 'primary',
      ok: false,
      latencyMs: expect.any(Number),
      error: '502',
    });
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
    expect(checks.map((c) => [c.ok, c.error])).toEqual([
      [false, '502'],
      [true, undefined],
      [true, undefined],
    ]);
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
    expect(json).toMatchObject({
      mainApi: primary.url,
      fallbackApi: fallback.url,
      activeEndpoint: 'fallback',
      healthCheck: { enabled: false },
    });
    const [p, f] = json.endpoints as Record<string, unknown>[];
    expect(p).toMatchObject({ name: 'primary', baseURL: primary.url, state: 'open', active: false, lastError: '502 InternalServerError' });
    expect(f).toMatchObject({ name: 'fallback', state: 'closed', active: true, lastError: null });
    expect(JSON.stringify(json)).not.toMatch(/nginx|<html/);
    // The classic route keeps its shape.
    expect(Object.keys((await call('GET', '/api/status')).json)).toEqual([
      'mainApi',
      'fallbackApi',
      'isMainApiAvailable',
      'activeEndpoint',
      'lastCheckedAt',
    ]);
  });

  it('adds no client listener per event stream, and forgets streams that disconnect', async () => {
    const names = ['switched', 'recovered', 'healthcheck', 'breaker', 'retry', 'remote'] as const;
    const listeners = () => names.map((name) => client.listenerCount(name));
    const before = listeners();
    const streams = await Promise.all(Array.from({ length: 20 }, () => openEvents()));
    await Promise.all(streams.map((s) => s.next()));
    expect(liveFeedOf(app).connections()).toBe(20);
    expect(listeners()).toEqual(before);
    for (const s of streams) s.close();
    await vi.waitFor(() => expect(liveFeedOf(app).connections()).toBe(0), { timeout: 5000, interval: 10 });
    expect(listeners()).toEqual(before);

    // Events after the disconnects reach nobody and break nothing; a new stream still works.
    primary.setFault({ kind: 'bad-gateway' });
    expect((await call('POST', '/api/images', { prompt: 'a cat' })).json).toMatchObject({ endpoint: 'fallback' });
    const fresh = await openEvents();
    expect(await fresh.next()).toMatchObject({ event: 'status', data: { activeEndpoint: 'fallback' } });
    await check();
    expect(await fresh.until((m) => m.event === 'healthcheck')).toMatchObject({ data: { ok: false, error: '502' } });
    fresh.close();
    await vi.waitFor(() => expect(liveFeedOf(app).connections()).toBe(0), { timeout: 5000, interval: 10 });

    // The counts do see an app's listeners: a second app on the client adds its own.
    await startApp({ checkToken: TOKEN });
    expect(listeners().map((n, i) => n > before[i]!)).toContain(true);
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
