/**
 * The PACKED package in a browser: fixtures/browser*.js staged into .cache/runtimes/browser/
 * (support.ts) and bundled there with esbuild for the browser, so that `resilient-openai` and
 * `openai` resolve from .cache/runtimes/node_modules (the installed tarball); served from a loopback
 * page server and run in headless Chromium (Debian's, at /usr/bin/chromium, driven with
 * playwright-core as test/status-page.e2e.test.ts drives it).
 *
 *   npm run build && bash scripts/runtimes/install.sh
 *
 * CORS: the fake upstreams send no CORS headers, so each one sits behind a tiny CORS-adding proxy
 * (below), on its own origin. Chosen over `--disable-web-security` so that Chromium keeps its
 * same-origin policy: the SDK's real cross-origin requests, preflights included (its Authorization
 * and x-stainless-* headers make them non-simple), go through as they would to a real API.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { expectFailedOver, requireFromRuntimes, runtimesDir, stageFixtures, startUpstreams, type Upstreams } from './support.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

// esbuild comes from .cache/runtimes: typed here with what this file uses of it.
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{
    outputFiles: { text: string }[];
    metafile: { inputs: Record<string, unknown>; outputs: Record<string, { imports: { path: string }[] }> };
  }>;
}

let runtimes: string;
let staged: string;

interface Bundle {
  code: string;
  /** The files bundled, relative to .cache/runtimes. */
  inputs: string[];
  /** What the bundle still imports at run time (a Node built-in would be one). */
  imports: string[];
}

/** Bundles a staged fixture for the browser as an ES module, with `globalThis.RUNTIME_TEST_CONFIG` compiled in. */
async function bundleForBrowser(entry: string, config: Record<string, unknown> = {}): Promise<Bundle> {
  const esbuild = requireFromRuntimes('esbuild') as Esbuild;
  const result = await esbuild.build({
    entryPoints: [join(staged, entry)],
    absWorkingDir: runtimes,
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    define: { 'globalThis.RUNTIME_TEST_CONFIG': JSON.stringify(config) },
    logLevel: 'silent',
  });
  return {
    code: result.outputFiles[0]!.text,
    inputs: Object.keys(result.metafile.inputs),
    imports: (Object.values(result.metafile.outputs)[0]?.imports ?? []).map((i) => i.path),
  };
}

const servers: Server[] = [];

async function listen(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A page that imports the bundle and hands its exports to the test as `window.runtimeTest`. */
async function servePage(code: string): Promise<string> {
  const html =
    '<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>resilient-openai runtime test</title>' +
    '<script type="module">import * as m from "./bundle.js"; window.runtimeTest = m;</script>';
  const origin = await listen((req, res) => {
    if (req.url === '/bundle.js') res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8' }).end(code);
    else if (req.url === '/') res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(html);
    else res.writeHead(404).end();
  });
  return `${origin}/`;
}

interface CorsProxy {
  /** The upstream's URL through the proxy (with /v1). */
  url: string;
  /** Preflights answered: the browser did ask. */
  preflights: number;
}

/**
 * Forwards to `target` (an upstream's origin) and adds the CORS headers a browser needs: it answers
 * preflights itself, echoing the headers asked for (`*` would not cover Authorization), and streams
 * every other reply through as it comes (SSE included).
 */
async function corsProxy(target: string): Promise<CorsProxy> {
  const proxy: CorsProxy = { url: '', preflights: 0 };
  const origin = await listen((req, res) => {
    const cors = {
      'access-control-allow-origin': req.headers.origin ?? '*',
      'access-control-allow-methods': 'GET, POST, PUT, PATCH, DELETE, OPTIONS',
      'access-control-allow-headers': req.headers['access-control-request-headers'] ?? '*',
      'access-control-expose-headers': '*',
      'access-control-max-age': '0',
    };
    if (req.method === 'OPTIONS') {
      proxy.preflights++;
      res.writeHead(204, cors).end();
      return;
    }
    const upstream = httpRequest(`${target}${req.url ?? '/'}`, { method: req.method, headers: req.headers }, (reply) => {
      res.writeHead(reply.statusCode ?? 502, { ...reply.headers, ...cors });
      reply.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  proxy.url = `${origin}/v1`;
  return proxy;
}

let browser: Browser | undefined;
const contexts: BrowserContext[] = [];
let upstreams: Upstreams | undefined;
/** Page errors and console errors, but for those `allowed` names (a 502 the scenario asks for). */
let pageErrors: string[] = [];

beforeAll(async () => {
  // Throws, failing every test with what to run, when .cache/runtimes is missing or stale, or Chromium is.
  runtimes = runtimesDir();
  staged = stageFixtures('browser', ['browser.js', 'browser-construction.js', 'scenario.js']);
  if (!existsSync(CHROMIUM)) throw new Error(`Chromium not found at ${CHROMIUM}: run \`bash scripts/install-chromium.sh\` (as root) first`);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // playwright-core gives every launch a fresh temporary profile (--user-data-dir) of its own.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}, 30_000);

afterEach(async () => {
  await Promise.all(contexts.splice(0).map((c) => c.close().catch(() => {})));
  await upstreams?.close();
  upstreams = undefined;
  await Promise.all(
    servers.splice(0).map(
      (s) =>
        new Promise<void>((resolve) => {
          s.close(() => resolve());
          s.closeAllConnections();
        }),
    ),
  );
  const errors = pageErrors;
  pageErrors = [];
  expect(errors).toEqual([]);
});

afterAll(async () => {
  await browser?.close().catch(() => {});
}, 30_000);

async function openPage(url: string, allowed?: RegExp): Promise<Page> {
  const context = await browser!.newContext();
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
  page.on('console', (msg) => {
    const expected = allowed !== undefined && msg.text().startsWith('Failed to load resource') && allowed.test(msg.location().url);
    if (msg.type() === 'error' && !expected) pageErrors.push(`console: ${msg.text()} (${msg.location().url})`);
  });
  await page.goto(url);
  await page.waitForFunction(() => 'runtimeTest' in window, undefined, { timeout: 10_000 });
  return page;
}

describe('browser (Chromium, an esbuild bundle): the packed package', () => {
  it('runs the shared scenario in a page: the fallback serves the calls, the result is EXPECTED', async () => {
    // A primary answering 502 to everything, a healthy fallback.
    upstreams = await startUpstreams();
    const { primary, fallback } = upstreams;
    const toPrimary = await corsProxy(primary.origin);
    const toFallback = await corsProxy(fallback.origin);
    const bundle = await bundleForBrowser('browser.js', { primaryURL: toPrimary.url, fallbackURL: toFallback.url });
    // Nothing left to import at run time (a Node built-in would fail the build), and the library is the packed one.
    expect(bundle.imports).toEqual([]);
    expect(bundle.inputs).toContain('node_modules/resilient-openai/dist/index.js');
    expect(bundle.inputs.filter((i) => !i.startsWith('node_modules/') && !i.startsWith('browser/') && !i.startsWith('<define:'))).toEqual(
      [],
    );

    const pageURL = await servePage(bundle.code);
    // The primary's 502 shows in the console as a failed resource: the scenario asks for it.
    const page = await openPage(pageURL, new RegExp(`^${toPrimary.url.replace(/[.]/g, '\\.')}/`));
    const reply = await page.evaluate(async () => {
      const t = (window as unknown as { runtimeTest: { run(): Promise<unknown>; EXPECTED: unknown } }).runtimeTest;
      try {
        return { result: await t.run(), expected: t.EXPECTED };
      } catch (error) {
        return { error: error instanceof Error ? `${error.name}: ${error.message}\n${error.stack}` : String(error) };
      }
    });
    expect(reply.error).toBeUndefined();
    expect(reply.expected).toBeTypeOf('object');
    expect(reply.result).toEqual(reply.expected);

    // The fallback served both calls, with its key, through CORS, from the page (the SDK saw a browser).
    expectFailedOver(upstreams);
    expect(toFallback.preflights).toBeGreaterThanOrEqual(1);
    for (const request of fallback.requests) {
      expect(request.headers.origin).toBe(new URL(pageURL).origin);
      expect(request.headers['x-stainless-runtime']).toMatch(/^browser:/);
    }
  });

  describe('construction in a page', () => {
    type Outcome = { threw: boolean; isOpenAIError?: boolean; message?: string; endpoints?: { name: string; baseURL: string }[] };
    const construct = (page: Page, options: Record<string, unknown>): Promise<Outcome> =>
      page.evaluate((o) => (window as unknown as { runtimeTest: { construct(o: unknown): Outcome } }).runtimeTest.construct(o), options);
    // Constructing sends nothing: these URLs are never called.
    const PRIMARY = { apiKey: 'sk-browser-primary', baseURL: 'http://127.0.0.1:9/v1' };
    const OTHER = { apiKey: 'sk-browser-fallback', baseURL: 'http://127.0.0.1:10/v1' };
    const OFFICIAL = 'https://api.openai.com/v1';

    it('throws the SDK’s browser error without dangerouslyAllowBrowser; with it on the primary only, the fallbacks inherit it', async () => {
      const page = await openPage(await servePage((await bundleForBrowser('browser-construction.js')).code));

      // The SDK's own protection stays: no flag, no client (whatever the fallbacks).
      for (const options of [{ ...PRIMARY }, { ...PRIMARY, fallback: OTHER }]) {
        const refused = await construct(page, options);
        expect(refused).toMatchObject({ threw: true, isOpenAIError: true });
        expect(refused.message).toMatch(/browser-like environment[\s\S]*dangerouslyAllowBrowser/);
      }

      // The flag on the primary only: the default fallback (the official API) is built and allowed too.
      expect(await construct(page, { ...PRIMARY, dangerouslyAllowBrowser: true })).toEqual({
        threw: false,
        endpoints: [
          { name: 'primary', baseURL: PRIMARY.baseURL },
          { name: 'fallback', baseURL: OFFICIAL },
        ],
      });
      // And fallbacks given as options, one of them defaulting to the official API.
      expect(
        await construct(page, { ...PRIMARY, dangerouslyAllowBrowser: true, fallback: [OTHER, { apiKey: 'sk-browser-official' }] }),
      ).toEqual({
        threw: false,
        endpoints: [
          { name: 'primary', baseURL: PRIMARY.baseURL },
          { name: 'fallback', baseURL: OTHER.baseURL },
          { name: 'fallback-2', baseURL: OFFICIAL },
        ],
      });

      // The control: each fallback's own SDK client is built, with the check, at construction. A
      // fallback that says `false` for itself is refused, so the passes above are inheritance.
      const own = await construct(page, {
        ...PRIMARY,
        dangerouslyAllowBrowser: true,
        fallback: { ...OTHER, dangerouslyAllowBrowser: false },
      });
      expect(own).toMatchObject({ threw: true, isOpenAIError: true });
      expect(own.message).toMatch(/browser-like environment/);
    });
  });
});
