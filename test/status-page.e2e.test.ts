/**
 * The status page (examples/status-page/) in real headless Chromium, against the Express example,
 * a ResilientOpenAI with a fast health timer and two fake upstreams. Needs Debian's Chromium at
 * /usr/bin/chromium: `bash scripts/install-chromium.sh`.
 */
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import type { ResilientOpenAI } from '../src/index.js';
import { createApp, liveFeedOf } from '../examples/express-status-routes.js';
import { clientFor, fallbackOn, FALLBACK_KEY, PRIMARY_KEY } from './support/clients.js';
import { startUpstream, type Upstream } from './support/upstream.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const ARTIFACTS = fileURLToPath(new URL('../test-artifacts/', import.meta.url));
const TOKEN = 'e2e-check-token-5f0c2a';
const WAIT = { timeout: 15_000 };

let primary: Upstream | undefined;
let fallback: Upstream | undefined;
let client: ResilientOpenAI | undefined;
let server: Server | undefined;
let browser: Browser | undefined;
let base = '';
const contexts: BrowserContext[] = [];
const pageErrors: string[] = [];

async function openPage(options: { colorScheme?: 'light' | 'dark'; blockEvents?: boolean } = {}): Promise<Page> {
  if (MISSING) throw new Error(MISSING);
  const context = await browser!.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'en-US',
    timezoneId: 'UTC',
    colorScheme: options.colorScheme ?? 'light',
  });
  contexts.push(context);
  const page = await context.newPage();
  page.on('pageerror', (error) => pageErrors.push(`pageerror: ${error.message}`));
  // Expected: the 401 of a wrong token, and the blocked stream of the polling test. Anything else
  // (a CSP violation, a script error, a missing file) is a bug.
  const expected = options.blockEvents ? /\/api\/(check-main-api|events)\b/ : /\/api\/check-main-api\b/;
  page.on('console', (msg) => {
    const resourceFailure = msg.text().startsWith('Failed to load resource') && expected.test(msg.location().url);
    if (msg.type() === 'error' && !resourceFailure) pageErrors.push(`console: ${msg.text()} (${msg.location().url})`);
  });
  if (options.blockEvents) await page.route('**/api/events', (route) => route.abort());
  await page.goto(`${base}/status/`);
  return page;
}

const card = (page: Page, name: string) => page.locator(`[data-endpoint="${name}"]`);

// Missing Chromium fails every test with this message (never a silent skip).
const MISSING =
  existsSync(CHROMIUM) ? null : `Chromium not found at ${CHROMIUM}: run \`bash scripts/install-chromium.sh\` (as root) before the tests`;

beforeAll(async () => {
  if (MISSING) return;
  mkdirSync(ARTIFACTS, { recursive: true });
  primary = await startUpstream({ name: 'primary' });
  fallback = await startUpstream({ name: 'fallback' });
  client = clientFor(primary, {
    fallback: fallbackOn(fallback),
    healthCheck: { intervalMs: 300, timeoutMs: 200 },
    breaker: { successThreshold: 2 },
    retry: { initialDelayMs: 1 },
  });
  const app = createApp(client, { checkToken: TOKEN, checkRateLimit: { max: 100, windowMs: 60_000 }, log: () => {} });
  server = createServer(app);
  server.on('close', () => liveFeedOf(app).close());
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: CHROMIUM,
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
}, 60_000);

afterEach(async () => {
  while (contexts.length)
    await contexts
      .pop()!
      .close()
      .catch(() => {});
  expect(pageErrors.splice(0)).toEqual([]);
});

afterAll(async () => {
  await browser?.close().catch(() => {});
  client?.close();
  if (server) {
    await new Promise<void>((resolve) => {
      server!.close(() => resolve());
      server!.closeAllConnections();
    });
  }
  await Promise.all([primary?.close(), fallback?.close()]);
}, 60_000);

describe('status page in headless Chromium', () => {
  it('shows the switch to the fallback and the recovery live, without a reload', async () => {
    const page = await openPage();
    await page.locator('#connection[data-mode="live"]').waitFor(WAIT);
    await card(page, 'primary').and(page.locator('[data-active="true"][data-state="closed"]')).waitFor(WAIT);
    await card(page, 'fallback').and(page.locator('[data-active="false"][data-state="closed"]')).waitFor(WAIT);
    expect(await card(page, 'primary').innerText()).toMatch(/ACTIVE[\s\S]*Breaker closed/);
    expect(await card(page, 'primary').locator('.url').innerText()).toBe(primary!.url);
    expect(await page.locator('#summary-title').innerText()).toBe('All systems normal');

    primary!.setFault({ kind: 'bad-gateway' });
    const images = await fetch(`${base}/api/images`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"prompt":"a cat"}',
    });
    expect(await images.json()).toMatchObject({ endpoint: 'fallback' });

    await card(page, 'primary').and(page.locator('[data-active="false"][data-state="open"]')).waitFor(WAIT);
    await card(page, 'fallback').and(page.locator('[data-active="true"]')).waitFor(WAIT);
    expect(await card(page, 'primary').innerText()).toMatch(/Breaker open[\s\S]*Last error\s*502 InternalServerError/i);
    expect(await card(page, 'fallback').innerText()).toContain('ACTIVE');
    const away = page.locator('#timeline li[data-type="switched"][data-from="primary"][data-to="fallback"]');
    await away.waitFor(WAIT);
    expect(await away.innerText()).toMatch(/primary\s*→\s*fallback[\s\S]*reason: (error|healthcheck) \(502\)/);
    await page.locator('#checks li[data-ok="false"]').first().waitFor(WAIT);
    expect(await page.locator('#summary-title').innerText()).toBe('Serving from fallback');
    await page.screenshot({ path: `${ARTIFACTS}status-page-degraded.png`, fullPage: true });

    primary!.setFault(null);
    const back = page.locator('#timeline li[data-type="switched"][data-from="fallback"][data-to="primary"][data-reason="recovered"]');
    await back.waitFor(WAIT);
    await page.locator('#timeline li[data-type="recovered"]').waitFor(WAIT);
    await card(page, 'primary').and(page.locator('[data-active="true"][data-state="closed"]')).waitFor(WAIT);
    // Newest first: the latest checks are healthy.
    await page.waitForFunction(() => document.querySelector('#checks li')?.getAttribute('data-ok') === 'true', undefined, WAIT);
    expect(await page.locator('#checks li').count()).toBeLessThanOrEqual(10);
    expect(await page.locator('#checks li').first().innerText()).toMatch(/✓ OK[\s\S]*\d+ ms/);
    const order = await page
      .locator('#timeline li[data-type="switched"]')
      .evaluateAll((items) => items.map((li) => li.getAttribute('data-to')));
    expect(order.slice(0, 2)).toEqual(['primary', 'fallback']);
    expect(await page.locator('#timeline').getAttribute('aria-live')).toBe('polite');

    const html = await page.content();
    expect(html).not.toContain(PRIMARY_KEY);
    expect(html).not.toContain(FALLBACK_KEY);
    expect(html).not.toContain('<center>'); // the upstream's 502 page never reaches the browser

    await page.screenshot({ path: `${ARTIFACTS}status-page.png`, fullPage: true });
  }, 60_000);

  it('a freshly opened page shows the history; the check button works with the token only', async () => {
    const page = await openPage({ colorScheme: 'dark' });
    await page.locator('#timeline li[data-type="switched"][data-to="fallback"]').waitFor(WAIT);
    await page.locator('#timeline li[data-type="switched"][data-reason="recovered"]').waitFor(WAIT);

    await page.locator('#token').fill('not-the-token');
    await page.getByRole('button', { name: 'Check primary now' }).click();
    await page.locator('#check-result[data-result="error"]').waitFor(WAIT);
    expect(await page.locator('#check-result').innerText()).toMatch(/Not authorized: invalid token \(HTTP 401\)/);

    await page.locator('#token').fill(TOKEN);
    await page.getByRole('button', { name: 'Check primary now' }).click();
    await page.locator('#check-result[data-result="ok"]').waitFor(WAIT);
    expect(await page.locator('#check-result').innerText()).toContain('Primary API is available');
    expect(await page.evaluate(() => sessionStorage.getItem('resilient-openai:check-token'))).toBe(TOKEN);
    await page.screenshot({ path: `${ARTIFACTS}status-page-dark.png`, fullPage: true });

    // The API itself: 401 without the right token, whatever the page does.
    for (const authorization of [undefined, 'Bearer wrong', `Basic ${TOKEN}`]) {
      const res = await fetch(`${base}/api/check-main-api`, { method: 'POST', headers: authorization ? { authorization } : {} });
      expect(res.status).toBe(401);
      expect(await res.json()).toMatchObject({ success: false });
    }
  }, 60_000);

  it('falls back to polling /api/status when the event stream fails', async () => {
    const page = await openPage({ blockEvents: true });
    await page.locator('#connection[data-mode="polling"]').waitFor(WAIT);
    await card(page, 'primary').and(page.locator('[data-active="true"]')).waitFor(WAIT);
    await page.locator('#checks li').first().waitFor(WAIT);
    expect(await page.locator('#connection').innerText()).toMatch(/Polling every 3 s/);
  }, 60_000);
});
