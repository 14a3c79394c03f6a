/**
 * Shared setup of the tests of examples/express-status-routes.ts (test/example.test.ts and
 * test/live-feed.test.ts): two fake upstreams, a client, the example app on a loopback port, and
 * checks after each test that no key reached a response body or a log line.
 *
 * Call `useExampleApp()` once at the top of a test file. The state below is reassigned before
 * each test; ES module imports are live bindings, so importers always see the current test's values.
 */
import { beforeEach, afterEach, expect, vi } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { ResilientOpenAI, ResilientOptions } from '../../src/index.js';
import { createApp, type AppOptions } from '../../examples/express-status-routes.js';
import { clientFor, fallbackOn, FALLBACK_KEY, PRIMARY_KEY } from './clients.js';
import { startUpstream, type Upstream } from './upstream.js';

export { FALLBACK_KEY, PRIMARY_KEY } from './clients.js';
export const TOKEN = 'check-token-0123456789';
export const AUTH = { authorization: `Bearer ${TOKEN}` };

export let primary: Upstream;
export let fallback: Upstream;
export let client: ResilientOpenAI;
export let app: ReturnType<typeof createApp>;
export let base: string;
export let logs: string[];
// Every response body of the test, checked for keys in afterEach.
export let bodies: string[];
let servers: Server[];
let clients: ResilientOpenAI[];

export async function call(method: 'GET' | 'POST', path: string, body?: unknown, raw?: string) {
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
export async function checkWith(headers: Record<string, string>, url = base) {
  const res = await fetch(`${url}/api/check-main-api`, { method: 'POST', headers });
  const text = await res.text();
  bodies.push(text);
  return { status: res.status, json: JSON.parse(text) as Record<string, unknown>, headers: res.headers };
}

export const check = async (url = base) => {
  const { status, json } = await checkWith(AUTH, url);
  return { status, json };
};

async function listen(app: ReturnType<typeof createApp>): Promise<string> {
  const extra = createServer(app);
  servers.push(extra);
  await new Promise<void>((resolve) => extra.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(extra.address() as AddressInfo).port}`;
}

/** A client over this test's primary and fallback, closed after the test. */
export function exampleClient(options: Partial<ResilientOptions> = {}): ResilientOpenAI {
  const made = clientFor(primary, { fallback: fallbackOn(fallback), retry: { initialDelayMs: 1 }, ...options });
  clients.push(made);
  return made;
}

/** Another app, e.g. with other options, on the test's client or on `over`. */
export const startApp = (options: AppOptions, over: ResilientOpenAI = client) =>
  listen(createApp(over, { log: (line) => logs.push(line), ...options }));

/** Registers the per-test setup and teardown in the calling test file. */
export function useExampleApp(): void {
  beforeEach(async () => {
    logs = [];
    bodies = [];
    servers = [];
    clients = [];
    primary = await startUpstream({ name: 'primary' });
    fallback = await startUpstream({ name: 'fallback' });
    client = exampleClient();
    app = createApp(client, { log: (line) => logs.push(line), checkToken: TOKEN });
    base = await listen(app);
  });

  afterEach(async () => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    for (const each of clients) each.close();
    for (const each of servers) {
      await new Promise<void>((resolve) => {
        each.close(() => resolve());
        each.closeAllConnections();
      });
    }
    await Promise.all([primary.close(), fallback.close()]);
    for (const text of [...bodies, ...logs]) {
      expect(text).not.toContain(PRIMARY_KEY);
      expect(text).not.toContain(FALLBACK_KEY);
    }
  });
}
