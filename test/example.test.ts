import { describe, it, expect, vi } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import {
  AUTH,
  FALLBACK_KEY,
  PRIMARY_KEY,
  TOKEN,
  call,
  check,
  checkWith,
  exampleClient,
  fallback,
  logs,
  primary,
  startApp,
  useExampleApp,
} from './support/example-app.js';
import { localCoordination } from './support/clients.js';

// The live feed and the status page are tested in live-feed.test.ts.

const ROOT = fileURLToPath(new URL('..', import.meta.url));

useExampleApp();

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
    // A coordination that breaks its contract (publish must never throw) makes the check itself
    // throw, with a key in the error, when the failed probe opens the primary's breaker.
    const publish = () => {
      throw new Error(`boom ${PRIMARY_KEY}`);
    };
    const url = await startApp({ checkToken: TOKEN }, exampleClient({ coordination: localCoordination({ publish }) }));
    primary.setFault({ kind: 'bad-gateway' });
    const res = await check(url);
    expect(res).toEqual({ status: 500, json: { success: false, message: 'Could not check the primary API' } });
    // The same check through the example's own client answers.
    expect(await check()).toMatchObject({ status: 200, json: { success: true, isMainApiAvailable: false } });
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
