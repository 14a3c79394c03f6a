/**
 * Every `ClientOptions` key of the installed openai works on the primary and on a fallback given
 * as options: the list of keys is read from the installed SDK's own declaration (client.d.ts), so
 * a key a new SDK version adds fails here until VALUES knows how to give it a value and how to
 * see that value at work in the inner client that makes the requests. On the wire where that is
 * what the key is for (headers, query, auth, URL), on the inner client otherwise.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { OpenAI, type ClientOptions } from 'openai';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { ResilientOpenAI, type FallbackOptions, type ResilientOptions } from '../src/index.js';
import { chat, PRIMARY_KEY, track } from './support/harness.js';
import { refusedURL, startUpstream, type RecordedRequest, type Upstream } from './support/upstream.js';
import { OPENAI_DIR, OPENAI_VERSION } from './support/openai-package.js';

const MAJOR = Number(OPENAI_VERSION.split('.')[0]);

/**
 * The member names of `interface ClientOptions` in the SDK's client.d.ts. Fails loudly on anything
 * it cannot read (an `extends`, an index signature), rather than returning a short list.
 */
function clientOptionKeys(): string[] {
  const file = join(OPENAI_DIR, 'client.d.ts');
  const source = readFileSync(file, 'utf8')
    .replace(/\/\*[\s\S]*?\*\//g, '')
    .replace(/\/\/.*$/gm, '');
  const header = /export (?:declare )?interface ClientOptions\b([^{]*)\{/.exec(source);
  if (!header) throw new Error(`no \`interface ClientOptions\` in ${file}`);
  if (header[1]!.trim()) throw new Error(`ClientOptions in ${file} has \`${header[1]!.trim()}\`: inherited members are not read`);
  // The interface's own members: text at depth 0 of its body, split at `;`.
  let depth = 0;
  let statement = '';
  const statements: string[] = [];
  for (let i = header.index + header[0].length; i < source.length; i++) {
    const c = source[i]!;
    if (depth === 0 && c === '}') break;
    if ('{(['.includes(c)) depth++;
    else if ('})]'.includes(c)) depth--;
    else if (depth === 0 && c === ';') {
      statements.push(statement.trim());
      statement = '';
    } else if (depth === 0) statement += c;
  }
  if (statement.trim()) statements.push(statement.trim());
  return statements.map((s) => {
    const member = /^(?:readonly\s+)?([A-Za-z_$][\w$]*)\??\s*:/.exec(s);
    if (!member) throw new Error(`cannot read a member of ClientOptions in ${file}: ${JSON.stringify(s)}`);
    return member[1]!;
  });
}

const KEYS = clientOptionKeys();

const secret = (kind: string) => `${kind}-${randomBytes(8).toString('hex')}`;

/** Calls of a recording fetch, forwarded to the real one. */
function recordingFetch() {
  const calls: { url: string; init: RequestInit | undefined }[] = [];
  const fetch: typeof globalThis.fetch = (input, init) => {
    calls.push({ url: input instanceof Request ? input.url : String(input), init });
    return globalThis.fetch(input, init);
  };
  return { calls, fetch };
}

function recordingLogger() {
  const lines: { level: string; message: string }[] = [];
  const at = (level: string) => (message: string) => void lines.push({ level, message: String(message) });
  return { lines, logger: { error: at('error'), warn: at('warn'), info: at('info'), debug: at('debug') } };
}

interface Tools {
  where: 'primary' | 'fallback';
  client: ResilientOpenAI;
  /** A chat call through the ResilientOpenAI; what the upstream received for it. */
  send: () => Promise<RecordedRequest>;
}

interface Case {
  /** The endpoint's options over `{ apiKey, baseURL }`; a key set to `undefined` is left out. */
  options: Record<string, unknown>;
  /** Where the endpoint's requests go, when not to the default upstream. */
  upstream?: Upstream;
  /** What shows the value at work in the inner client that makes the requests. */
  check?: (inner: OpenAI, tools: Tools) => Promise<void> | void;
  /**
   * For values no test can make for real: the SDK's own refusal of a placeholder, which only its
   * constructor can raise, and only when the key reached it.
   */
  refusedBySDK?: RegExp;
}

interface Entry {
  /** The first openai major version whose ClientOptions has the key. @default 6 */
  since?: number;
  make: (up: Upstream) => Case | Promise<Case>;
}

/** How to give each key a plausible value, and see it at work. A key of the SDK missing here fails. */
const VALUES: Record<string, Entry> = {
  apiKey: {
    make: () => {
      const value = secret('sk-opt-apikey');
      return {
        options: { apiKey: value },
        async check(inner, { send }) {
          expect(inner.apiKey).toBe(value);
          expect((await send()).headers.authorization).toBe(`Bearer ${value}`);
        },
      };
    },
  },
  adminAPIKey: {
    make: (up) => {
      const value = secret('sk-admin-opt');
      return {
        options: { adminAPIKey: value },
        async check(inner, { client }) {
          expect(inner.adminAPIKey).toBe(value);
          // Admin endpoints authenticate with the admin key (the fake answers 404: the request is what counts).
          await client.admin.organization.auditLogs.list().catch(() => undefined);
          const sent = up.requests.at(-1)!;
          expect(sent.path).toBe('/v1/organization/audit_logs');
          expect(sent.headers.authorization).toBe(`Bearer ${value}`);
        },
      };
    },
  },
  organization: {
    make: () => ({
      options: { organization: 'org-opt-1' },
      async check(inner, { send }) {
        expect(inner.organization).toBe('org-opt-1');
        expect((await send()).headers['openai-organization']).toBe('org-opt-1');
      },
    }),
  },
  project: {
    make: () => ({
      options: { project: 'proj-opt-1' },
      async check(inner, { send }) {
        expect(inner.project).toBe('proj-opt-1');
        expect((await send()).headers['openai-project']).toBe('proj-opt-1');
      },
    }),
  },
  webhookSecret: {
    make: () => {
      const value = `whsec_${randomBytes(24).toString('base64')}`;
      const signed = (key: string, payload: string) => {
        const [id, timestamp] = ['wh_opt_1', String(Math.floor(Date.now() / 1000))];
        const signature = createHmac('sha256', Buffer.from(key.replace('whsec_', ''), 'base64'))
          .update(`${id}.${timestamp}.${payload}`)
          .digest('base64');
        return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1,${signature}` };
      };
      return {
        options: { webhookSecret: value },
        async check(inner) {
          expect(inner.webhookSecret).toBe(value);
          const payload = JSON.stringify({ id: 'evt_1', type: 'response.completed', created_at: 1, data: { id: 'resp_1' } });
          // Its webhooks verify with that secret (and, the control, not with another).
          await expect(inner.webhooks.unwrap(payload, signed(value, payload))).resolves.toMatchObject({ id: 'evt_1' });
          const other = `whsec_${randomBytes(24).toString('base64')}`;
          await expect(inner.webhooks.unwrap(payload, signed(other, payload))).rejects.toThrow(/signature does not match/);
        },
      };
    },
  },
  baseURL: {
    make: async () => {
      const other = track(await startUpstream({ name: 'based', basePath: '/base-opt' }));
      return {
        options: { baseURL: other.url },
        upstream: other,
        async check(inner, { send }) {
          expect(inner.baseURL).toBe(other.url);
          expect((await send()).path).toBe('/base-opt/chat/completions');
        },
      };
    },
  },
  dataResidency: {
    since: 7,
    make: () => ({
      // `baseURL` and `dataResidency` are mutually exclusive: the SDK picks the regional URL.
      options: { baseURL: undefined, dataResidency: 'eu' },
      check(inner, { client, where }) {
        // Nothing is sent: the URL is a real regional endpoint.
        expect(inner.baseURL).toBe('https://eu.api.openai.com/v1');
        const index = where === 'primary' ? 0 : 1;
        expect(client.getStatus().endpoints[index]!.baseURL).toBe('https://eu.api.openai.com/v1');
      },
    }),
  },
  timeout: {
    make: () => ({
      options: { timeout: 45_000 },
      async check(inner, { send }) {
        expect(inner.timeout).toBe(45_000);
        // The endpoint's own bound is the attempt's (the default would be timeouts.requestMs, 120 s),
        // and the inner client applies it by itself: no per-request timeout, so no header.
        expect((await send()).headers['x-stainless-timeout']).toBeUndefined();
      },
    }),
  },
  fetchOptions: {
    make: () => {
      const { calls, fetch } = recordingFetch();
      const value = { redirect: 'error' as const };
      return {
        options: { fetchOptions: value, fetch },
        async check(inner, { send }) {
          expect(inner.fetchOptions).toEqual(value);
          await send();
          expect(calls.at(-1)!.init?.redirect).toBe('error');
        },
      };
    },
  },
  fetch: {
    make: (up) => {
      const { calls, fetch } = recordingFetch();
      return {
        options: { fetch },
        async check(_inner, { send }) {
          const sent = await send();
          expect(calls.map((c) => c.url)).toEqual([`${up.url}/chat/completions`]);
          expect(sent.path).toBe('/v1/chat/completions');
        },
      };
    },
  },
  maxRetries: {
    make: (up) => ({
      options: { maxRetries: 4 },
      async check(inner, { client, where }) {
        expect(inner.maxRetries).toBe(4);
        up.setFault({ kind: 'status', status: 500 });
        await expect(client.chat.completions.create(chat)).rejects.toMatchObject({ status: 500 });
        // The attempts are the call's, across endpoints: the ResilientOpenAI's maxRetries (the
        // primary's). A fallback's own maxRetries is held by its client and does not change them.
        expect(up.count('/chat/completions')).toBe(where === 'primary' ? 5 : 3);
      },
    }),
  },
  defaultHeaders: {
    make: () => ({
      options: { defaultHeaders: { 'x-opt-default': 'dh-1' } },
      async check(_inner, { send }) {
        expect((await send()).headers['x-opt-default']).toBe('dh-1');
      },
    }),
  },
  defaultQuery: {
    make: () => ({
      options: { defaultQuery: { 'opt-q': 'dq-1' } },
      async check(_inner, { send }) {
        expect((await send()).query['opt-q']).toBe('dq-1');
      },
    }),
  },
  dangerouslyAllowBrowser: {
    // What it does in a browser is tested in a real one: test/runtimes/browser.test.ts.
    make: () => ({
      options: { dangerouslyAllowBrowser: true },
      check(inner) {
        expect((inner as unknown as { _options: ClientOptions })._options.dangerouslyAllowBrowser).toBe(true);
      },
    }),
  },
  logLevel: {
    make: () => {
      const { lines, logger } = recordingLogger();
      return {
        options: { logLevel: 'debug', logger },
        async check(inner, { send }) {
          expect(inner.logLevel).toBe('debug');
          await send();
          // At the default level ('warn'), a successful call logs nothing.
          expect(lines.some((l) => l.level === 'debug' && /sending request/.test(l.message))).toBe(true);
        },
      };
    },
  },
  logger: {
    make: () => {
      const { lines, logger } = recordingLogger();
      return {
        options: { logger, logLevel: 'info' },
        async check(_inner, { send }) {
          await send();
          expect(lines.filter((l) => l.level === 'info').map((l) => l.message)).toContainEqual(expect.stringMatching(/post .*succeeded/i));
        },
      };
    },
  },
  workloadIdentity: {
    make: (up) => {
      const access = secret('wi-access');
      const subject = secret('wi-subject-jwt');
      const exchanges: unknown[] = [];
      // The token exchange goes through the client's fetch: answered here, never on the network.
      const fetch: typeof globalThis.fetch = async (input, init) => {
        const url = input instanceof Request ? input.url : String(input);
        if (url === 'https://auth.openai.com/oauth/token') {
          exchanges.push(JSON.parse(typeof init?.body === 'string' ? init.body : '{}'));
          const body = {
            access_token: access,
            issued_token_type: 'urn:ietf:params:oauth:token-type:access_token',
            token_type: 'Bearer',
            expires_in: 3600,
          };
          return new Response(JSON.stringify(body), { status: 200, headers: { 'content-type': 'application/json' } });
        }
        if (!url.startsWith(up.url)) throw new Error(`unexpected request to ${url}`);
        return globalThis.fetch(input, init);
      };
      const value = {
        identityProviderId: 'idp-opt-1',
        serviceAccountId: 'sa-opt-1',
        provider: { tokenType: 'jwt', getToken: () => Promise.resolve(subject) },
      };
      return {
        options: { apiKey: undefined, workloadIdentity: value, fetch },
        async check(_inner, { send }) {
          expect((await send()).headers.authorization).toBe(`Bearer ${access}`);
          expect(exchanges).toEqual([
            expect.objectContaining({ subject_token: subject, identity_provider_id: 'idp-opt-1', service_account_id: 'sa-opt-1' }),
          ]);
        },
      };
    },
  },
  provider: {
    make: async (up) => {
      const { bedrock } = await import('openai/providers/bedrock');
      const key = secret('bedrock-key');
      const value = bedrock({ baseURL: up.url, apiKey: key });
      return {
        // The provider owns the URL and the auth: `baseURL` and `apiKey` next to it are an SDK error.
        options: { apiKey: undefined, baseURL: undefined, provider: value },
        async check(inner, { send }) {
          expect((inner as unknown as { _options: ClientOptions })._options.provider).toBe(value);
          expect(inner.baseURL).toBe(up.url);
          expect((await send()).headers.authorization).toBe(`Bearer ${key}`);
        },
      };
    },
  },
  x509Transport: {
    since: 7,
    // A real transport needs undici (an optional peer of openai 7, not installed here) and a
    // client certificate for OpenAI's mTLS origin. The SDK refuses a transport without an X.509
    // workload identity, before anything else: only a transport that reached it gets this error.
    make: () => ({
      options: { x509Transport: Object.freeze({}) },
      refusedBySDK: /^An X\.509 transport requires an X\.509 workload identity\.$/,
    }),
  },
  credential: {
    since: 7,
    // As x509Transport: `fromX509()` needs undici and a certificate. The SDK checks a credential
    // is one of its own first: only a credential that reached it, as the only auth, gets this error.
    make: () => ({
      options: { apiKey: undefined, credential: Object.freeze({ close: () => Promise.resolve() }) },
      refusedBySDK: /^An X\.509 credential must be created by the SDK authentication helper\.$/,
    }),
  },
};

/** The environment the SDK and we read defaults from: nothing in it may stand in for a value under test. */
const ENV = [
  'OPENAI_API_KEY',
  'OPENAI_API_KEY_PRO',
  'OPENAI_BASE_URL',
  'OPENAI_BASE_URL_PRO',
  'OPENAI_ADMIN_KEY',
  'OPENAI_ORG_ID',
  'OPENAI_PROJECT_ID',
  'OPENAI_WEBHOOK_SECRET',
  'OPENAI_LOG',
  'OPENAI_CUSTOM_HEADERS',
  'AWS_BEARER_TOKEN_BEDROCK',
  'AWS_BEDROCK_BASE_URL',
];
beforeEach(() => {
  for (const name of ENV) vi.stubEnv(name, undefined);
  return () => void vi.unstubAllEnvs();
});

const retry = { initialDelayMs: 1, maxDelayMs: 2 };
const ENDPOINT_KEY = 'sk-endpoint-SECRET-0a1b2c3d';

/** `{ apiKey, baseURL }` with the case's options over them; keys set to `undefined` left out. */
function endpointOptions(up: Upstream, c: Case): Record<string, unknown> {
  const merged: Record<string, unknown> = { apiKey: ENDPOINT_KEY, baseURL: up.url, ...c.options };
  for (const [key, value] of Object.entries(merged)) if (value === undefined) delete merged[key];
  return merged;
}

/**
 * The endpoint under test: the primary, or the only fallback after one failed probe of a refused
 * primary has made it the active endpoint. Its inner client is `client.activeClient`.
 */
async function build(where: 'primary' | 'fallback', options: Record<string, unknown>) {
  const client =
    where === 'primary' ?
      new ResilientOpenAI({ ...(options as ResilientOptions), fallback: [], healthCheck: false, retry })
    : new ResilientOpenAI({
        apiKey: PRIMARY_KEY,
        baseURL: await refusedURL(),
        fallback: options as FallbackOptions,
        healthCheck: false,
        retry,
      });
  track(client);
  if (where === 'fallback') {
    expect(await client.checkPrimary()).toBe(false);
    expect(client.activeEndpoint).toBe('fallback');
  }
  return client;
}

describe(`ClientOptions of the installed openai ${OPENAI_VERSION}, read from its client.d.ts`, () => {
  it('is the real list (positive control)', () => {
    const always = [
      'apiKey',
      'adminAPIKey',
      'organization',
      'project',
      'webhookSecret',
      'baseURL',
      'timeout',
      'fetchOptions',
      'fetch',
      'maxRetries',
      'defaultHeaders',
      'defaultQuery',
      'dangerouslyAllowBrowser',
      'logLevel',
      'logger',
    ];
    expect(KEYS).toEqual(expect.arrayContaining(always));
    expect(new Set(KEYS).size).toBe(KEYS.length);
    expect(KEYS.length).toBeGreaterThanOrEqual(always.length);
    if (MAJOR >= 7) expect(KEYS).toEqual(expect.arrayContaining(['dataResidency', 'provider', 'workloadIdentity']));
  });

  it('every key has an entry in VALUES', () => {
    const unknown = KEYS.filter((key) => !Object.hasOwn(VALUES, key));
    expect(unknown, `ClientOptions keys of openai ${OPENAI_VERSION} that VALUES does not know: ${unknown.join(', ')}`).toEqual([]);
  });

  for (const key of Object.keys(VALUES).filter((k) => !KEYS.includes(k))) {
    it(`${key}: not a ClientOptions key of openai ${OPENAI_VERSION} (it arrived in openai ${VALUES[key]!.since ?? 6})`, () => {
      // Only a key of a later major may be missing: one missing otherwise was removed or renamed.
      expect(VALUES[key]!.since ?? 6).toBeGreaterThan(MAJOR);
    });
  }
});

for (const where of ['primary', 'fallback'] as const) {
  describe(`every ClientOptions key of openai ${OPENAI_VERSION} on the ${where === 'primary' ? 'primary' : 'fallback (given as options)'}`, () => {
    for (const key of KEYS) {
      it(key, async () => {
        const entry = VALUES[key];
        if (!entry)
          throw new Error(`ClientOptions key \`${key}\` of openai ${OPENAI_VERSION} has no entry in VALUES: give it a value and a check`);
        const up = track(await startUpstream({ name: where }));
        const c = await entry.make(up);
        const options = endpointOptions(up, c);
        if (c.refusedBySDK) {
          const refused = await build(where, options).catch((e: unknown) => e);
          expect(refused).toBeInstanceOf(OpenAI.OpenAIError);
          expect((refused as Error).message).toMatch(c.refusedBySDK);
          return;
        }
        const client = await build(where, options);
        const target = c.upstream ?? up;
        const tools: Tools = {
          where,
          client,
          send: async () => {
            const before = target.count();
            await client.chat.completions.create(chat);
            expect(target.count()).toBe(before + 1);
            return target.requests.at(-1)!;
          },
        };
        await c.check!(client.activeClient, tools);
      });
    }
  });
}

interface Echo {
  url: string;
  pages: string[];
  close(): Promise<void>;
}

/** A 502 page listing every query and header value the request had (as test/secrets-echo.test.ts). */
async function echoUpstream(): Promise<Echo> {
  const pages: string[] = [];
  const server = createServer((req, res) => {
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
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('special cases, with real behaviour', () => {
  for (const where of ['primary', 'fallback'] as const) {
    it(`apiKey as an async function on the ${where}: the key it returns is sent, and never shows in getStatus() after an echoing 502`, async () => {
      const up = track(await startUpstream({ name: where }));
      const echo = track(await echoUpstream());
      const keys: string[] = [];
      const apiKey = () => {
        keys.push(secret(`sk-keyfn${keys.length}`));
        return Promise.resolve(keys.at(-1)!);
      };
      const client = await build(where, { apiKey, baseURL: up.url });
      await client.chat.completions.create(chat);
      expect(up.requests.at(-1)!.headers.authorization).toBe(`Bearer ${keys.at(-1)}`);
      expect(client.activeClient.apiKey).toBe(keys.at(-1));

      // The same endpoint behind a proxy whose 502 page echoes the request.
      const echoed = await build(where, { apiKey, baseURL: echo.url });
      await expect(echoed.chat.completions.create(chat)).rejects.toMatchObject({ status: 502 });
      const fresh = keys.slice(1);
      expect(fresh.length).toBeGreaterThan(1);
      // Positive control: the echo carried every key the function returned.
      for (const key of fresh) expect(echo.pages.some((page) => page.slice(0, 260).includes(key))).toBe(true);
      const status = echoed.getStatus();
      const text = JSON.stringify(status);
      expect(status.endpoints[where === 'primary' ? 0 : 1]!.lastError).toContain('[redacted]');
      for (const key of keys) expect(text).not.toContain(key);
    });
  }

  it(
    MAJOR >= 7 ?
      `dataResidency on a fallback (openai ${OPENAI_VERSION}): no "mutually exclusive" error, the SDK's EU URL`
    : `dataResidency is not a ClientOptions key of openai ${OPENAI_VERSION}: the fallback gets the SDK's default URL`,
    async () => {
      const client = track(
        new ResilientOpenAI({
          apiKey: PRIMARY_KEY,
          baseURL: await refusedURL(),
          fallback: { apiKey: ENDPOINT_KEY, dataResidency: 'eu' } as FallbackOptions,
          healthCheck: false,
        }),
      );
      const expected = MAJOR >= 7 ? 'https://eu.api.openai.com/v1' : 'https://api.openai.com/v1';
      expect(KEYS.includes('dataResidency')).toBe(MAJOR >= 7);
      expect(client.getStatus().endpoints[1]!.baseURL).toBe(expected);
      expect(await client.checkPrimary()).toBe(false);
      expect(client.activeClient.baseURL).toBe(expected);
      expect(client.activeClient.apiKey).toBe(ENDPOINT_KEY);
    },
  );

  it('a custom fetch on the fallback is the one its requests use; the primary keeps its own', async () => {
    const up = track(await startUpstream({ name: 'fallback' }));
    const primaryFetch = recordingFetch();
    const fallbackFetch = recordingFetch();
    const primaryURL = await refusedURL();
    const client = track(
      new ResilientOpenAI({
        apiKey: PRIMARY_KEY,
        baseURL: primaryURL,
        fetch: primaryFetch.fetch,
        fallback: { apiKey: ENDPOINT_KEY, baseURL: up.url, fetch: fallbackFetch.fetch },
        healthCheck: false,
        retry,
      }),
    );
    await client.checkPrimary();
    await client.chat.completions.create(chat);
    await client.embeddings.create({ model: 'e', input: 'x' });
    expect(primaryFetch.calls.map((c) => c.url)).toEqual([`${primaryURL}/models`]);
    expect(fallbackFetch.calls.map((c) => c.url)).toEqual([`${up.url}/chat/completions`, `${up.url}/embeddings`]);
    expect(up.count()).toBe(2);
  });

  for (const where of ['primary', 'fallback'] as const) {
    it(`workloadIdentity on the ${where} with OPENAI_API_KEY set (the fallback's key here): that key is kept out, no SDK conflict`, async () => {
      vi.stubEnv('OPENAI_API_KEY', 'sk-env-official-SECRET-9d8c7b6a');
      const up = track(await startUpstream({ name: where }));
      const identity = await VALUES.workloadIdentity!.make(up);
      const client = await build(where, endpointOptions(up, identity));
      expect(client.activeClient.apiKey).toBeNull();
      await identity.check!(client.activeClient, {
        where,
        client,
        send: async () => {
          await client.chat.completions.create(chat);
          return up.requests.at(-1)!;
        },
      });
    });
  }

  it(
    MAJOR >= 7 ?
      'an X.509 workloadIdentity on a fallback gets the SDK’s mTLS origin, not the official URL (its missing transport is all the SDK refuses)'
    : `an X.509-shaped workloadIdentity on a fallback (openai ${OPENAI_VERSION} has no X.509 auth): the SDK's default URL`,
    async () => {
      const identity = { type: 'x509', identityProviderId: 'idp-opt-1', serviceAccountId: 'sa-opt-1' };
      const make = async () =>
        new ResilientOpenAI({
          apiKey: PRIMARY_KEY,
          baseURL: await refusedURL(),
          fallback: { workloadIdentity: identity } as unknown as FallbackOptions,
          healthCheck: false,
        });
      if (MAJOR >= 7) {
        // The SDK checks the origin (and the absence of a key and of a custom fetch) before the transport.
        await expect(make()).rejects.toThrow(/^X\.509 workload identity requires an approved X\.509 transport capability\.$/);
      } else {
        const client = track(await make());
        expect(client.getStatus().endpoints[1]!.baseURL).toBe('https://api.openai.com/v1');
      }
    },
  );

  it('workloadIdentity and provider on fallbacks next to a primary key: the primary key is not added to them', async () => {
    const up = track(await startUpstream({ name: 'fallback' }));
    const [identity, provider] = await Promise.all([VALUES.workloadIdentity!.make(up), VALUES.provider!.make(up)]);
    const client = track(
      new ResilientOpenAI({
        apiKey: PRIMARY_KEY,
        baseURL: await refusedURL(),
        fallback: [endpointOptions(up, identity), { name: 'bedrock', ...endpointOptions(up, provider) }] as FallbackOptions[],
        healthCheck: false,
        retry,
      }),
    );
    await client.checkPrimary();
    await client.chat.completions.create(chat);
    expect(up.requests.at(-1)!.headers.authorization).not.toBe(`Bearer ${PRIMARY_KEY}`);
    expect(client.getStatus().endpoints.map((e) => e.name)).toEqual(['primary', 'fallback', 'bedrock']);
  });
});
