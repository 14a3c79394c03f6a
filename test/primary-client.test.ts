/**
 * A ready client as the primary (`client`): an AzureOpenAI, or a plain OpenAI. Its path, header and
 * query are its own; failover, the breaker, the health probe, `name`, `models`, `maxRetries` and
 * affinity work on it as on a primary built from options; its key stays with it (never in the
 * status, never sent to the default fallback). The Azure upstreams serve Azure's paths: the chat
 * path `/openai/deployments/{deployment}/chat/completions`, and `/openai/models`, `/openai/files`,
 * `/openai/responses` below their base path `/openai`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AzureOpenAI, OpenAI, toFile } from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResilientOpenAI, type ResilientOptions } from '../src/index.js';
import { chat, FALLBACK_KEY, record, track, upstream } from './support/harness.js';
import { streamText } from './support/sdk-calls.js';
import { refusedURL, startUpstream, type Upstream } from './support/upstream.js';

/** Recognisable, so a leak is easy to spot, and long enough to be redacted. */
const AZURE_KEY = 'azure-key-SECRET-7f3a9c1e5b2d';
const API_VERSION = '2024-10-21';
const retry = { initialDelayMs: 1, maxDelayMs: 2 };

afterEach(() => {
  vi.unstubAllEnvs();
});

type AzureOptions = NonNullable<ConstructorParameters<typeof AzureOpenAI>[0]>;

/** An upstream that answers Azure's paths (its base path is `/openai`, as `endpoint` makes it). */
async function azureUpstream(options: { stored?: boolean } = {}): Promise<Upstream> {
  return track(await startUpstream({ name: 'azure', basePath: '/openai', ...options }));
}

const azureOn = (up: { origin: string }, options: AzureOptions = {}) =>
  new AzureOpenAI({ apiKey: AZURE_KEY, endpoint: up.origin, apiVersion: API_VERSION, ...options });

/** An AzureOpenAI primary (deployment `dep` unless `azure` says otherwise) and an OpenAI fallback. */
async function azureSetup(options: Partial<ResilientOptions> = {}, azure: AzureOptions = { deployment: 'dep' }) {
  const primary = await azureUpstream();
  const fallback = await upstream('fallback');
  const given = azureOn(primary, azure);
  const client = track(
    new ResilientOpenAI({
      client: given,
      fallback: { apiKey: FALLBACK_KEY, baseURL: fallback.url },
      healthCheck: false,
      retry,
      ...options,
    }),
  );
  return { primary, fallback, given, client, events: record(client) };
}

interface Echo {
  origin: string;
  /** Every page served, as sent: the positive control. */
  pages: string[];
  close(): Promise<void>;
}

/** Answers every request with a 502 page listing every query and header value (as test/secrets-echo.test.ts). */
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
    origin: `http://127.0.0.1:${port}`,
    pages,
    close: () =>
      new Promise((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

describe('an AzureOpenAI as the primary', () => {
  it("calls go through Azure's path, with its api-key header and api-version query, through the very client given", async () => {
    const { client, primary, fallback, given } = await azureSetup();
    expect(client.activeClient).toBe(given);
    const completion = await client.chat.completions.create(chat);
    expect(completion.choices[0]!.message.content).toBe('hello from azure');
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    expect(await streamText(stream)).toBe('hello from azure');
    expect(primary.requests.map((r) => r.path)).toEqual([
      '/openai/deployments/dep/chat/completions',
      '/openai/deployments/dep/chat/completions',
    ]);
    for (const request of primary.requests) {
      expect(request.query['api-version']).toBe(API_VERSION);
      expect(request.headers['api-key']).toBe(AZURE_KEY);
      expect(request.headers.authorization).toBeUndefined();
    }
    expect(fallback.count()).toBe(0);
    expect(client.activeEndpoint).toBe('primary');
  });

  it('a 502 from the Azure primary fails over to the OpenAI fallback within the call', async () => {
    const { client, primary, fallback, events } = await azureSetup();
    primary.setFault({ kind: 'bad-gateway' });
    const completion = await client.chat.completions.create(chat);
    expect(completion.choices[0]!.message.content).toBe('hello from fallback');
    expect(events.switched).toHaveLength(1);
    expect(events.switched[0]).toMatchObject({ from: 'primary', to: 'fallback', reason: 'error' });
    // One 502 switches at once; the fallback gets the OpenAI shape, with its own key and none of Azure's.
    expect(primary.count()).toBe(1);
    const sent = fallback.requests[0]!;
    expect(sent.path).toBe('/v1/chat/completions');
    expect(sent.headers.authorization).toBe(`Bearer ${FALLBACK_KEY}`);
    expect(sent.headers['api-key']).toBeUndefined();
    expect(sent.query['api-version']).toBeUndefined();
    const status = client.getStatus();
    expect(status.activeEndpoint).toBe('fallback');
    expect(status.endpoints.map((e) => [e.name, e.state])).toEqual([
      ['primary', 'open'],
      ['fallback', 'closed'],
    ]);
  });

  it('getStatus() shows its base URL and never its key, even when its 502 page echoes the request', async () => {
    const echo = track(await echoUpstream());
    const fallback = await upstream('fallback');
    const client = track(
      new ResilientOpenAI({
        client: azureOn(echo, { deployment: 'dep' }),
        fallback: { apiKey: FALLBACK_KEY, baseURL: fallback.url },
        healthCheck: false,
        retry,
      }),
    );
    await expect(client.chat.completions.create(chat)).resolves.toMatchObject({
      choices: [{ message: { content: 'hello from fallback' } }],
    });
    expect(await client.checkPrimary()).toBe(false);
    // Positive control: the echo carried the key, within what a status line shows.
    expect(echo.pages).toHaveLength(2);
    for (const page of echo.pages) expect(page.slice(0, 260)).toContain(AZURE_KEY);
    const status = client.getStatus();
    expect(status.mainApi).toBe(`${echo.origin}/openai`);
    expect(status.endpoints[0]).toMatchObject({ name: 'primary', baseURL: `${echo.origin}/openai`, state: 'open' });
    expect(status.endpoints[0]!.lastError).toContain('[redacted]');
    expect(status.lastCheckError).toContain('[redacted]');
    expect(JSON.stringify(status)).not.toContain(AZURE_KEY);
  });

  it('a base URL with userinfo is shown redacted', async () => {
    const primary = await azureUpstream();
    const password = 'az-pass-SECRET-91c2e7';
    // Node's fetch refuses userinfo: this client's own fetch drops it (a proxy would check it).
    const fetch: typeof globalThis.fetch = (input, init) => {
      const url = new URL(input instanceof Request ? input.url : input);
      url.username = url.password = '';
      return globalThis.fetch(url, init);
    };
    const baseURL = primary.origin.replace('http://', `http://az-user:${password}@`) + '/openai';
    const client = track(
      new ResilientOpenAI({
        client: new AzureOpenAI({ apiKey: AZURE_KEY, baseURL, apiVersion: API_VERSION, deployment: 'dep', fetch }),
        fallback: [],
        healthCheck: false,
      }),
    );
    await client.chat.completions.create(chat);
    expect(primary.requests[0]!.path).toBe('/openai/deployments/dep/chat/completions');
    const status = client.getStatus();
    expect(status.mainApi).toBe(`${primary.origin.replace('http://', 'http://***:***@')}/openai`);
    expect(JSON.stringify(status)).not.toContain(password);
  });

  it('checkPrimary() probes through the Azure client; two good probes close its breaker and traffic returns', async () => {
    const { client, primary, fallback, events } = await azureSetup();
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create(chat);
    expect(client.activeEndpoint).toBe('fallback');
    primary.reset();
    expect(await client.checkPrimary()).toBe(true);
    // One good probe is not enough (breaker.successThreshold is 2).
    expect(client.activeEndpoint).toBe('fallback');
    expect(await client.checkPrimary()).toBe(true);
    expect(client.activeEndpoint).toBe('primary');
    expect(client.getStatus().endpoints[0]!.state).toBe('closed');
    expect(events.recovered.map((e) => e.endpoint)).toEqual(['primary']);
    expect(events.switched.at(-1)).toMatchObject({ from: 'fallback', to: 'primary', reason: 'recovered' });
    expect(events.healthcheck.map((e) => [e.endpoint, e.ok])).toEqual([
      ['primary', true],
      ['primary', true],
    ]);
    // Both probes reached the Azure upstream the Azure way; none went to the fallback.
    expect(primary.requests.map((r) => [r.method, r.path, r.query['api-version'], r.headers['api-key']])).toEqual([
      ['GET', '/openai/models', API_VERSION, AZURE_KEY],
      ['GET', '/openai/models', API_VERSION, AZURE_KEY],
    ]);
    expect(fallback.count('/models')).toBe(0);
    await client.chat.completions.create(chat);
    expect(primary.requests.at(-1)!.path).toBe('/openai/deployments/dep/chat/completions');
  });

  it('`name` names it in events and status', async () => {
    const { client, primary, events } = await azureSetup({ name: 'azure-east' });
    expect(client.activeEndpoint).toBe('azure-east');
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create(chat);
    expect(events.switched[0]).toMatchObject({ from: 'azure-east', to: 'fallback', reason: 'error' });
    expect(events.retry.map((e) => [e.from, e.endpoint])).toEqual([['azure-east', 'fallback']]);
    await client.checkPrimary();
    expect(events.healthcheck.map((e) => e.endpoint)).toEqual(['azure-east']);
    const status = client.getStatus();
    expect(status.endpoints.map((e) => e.name)).toEqual(['azure-east', 'fallback']);
    expect(status.endpoints[0]!.active).toBe(false);
  });

  it('a `models` map applies to it: without a fixed deployment, the mapped name is the deployment in the path', async () => {
    const { client, primary, fallback } = await azureSetup({ models: { 'gpt-test': 'azure-gpt-dep' } }, {});
    await client.chat.completions.create(chat);
    expect(primary.requests[0]!.path).toBe('/openai/deployments/azure-gpt-dep/chat/completions');
    expect(primary.requests[0]!.json).toMatchObject({ model: 'azure-gpt-dep' });
    // The map is the primary's: the fallback gets the name the caller used.
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create(chat);
    expect(primary.requests[1]!.path).toBe('/openai/deployments/azure-gpt-dep/chat/completions');
    expect(fallback.requests[0]!.json).toMatchObject({ model: 'gpt-test' });
  });

  it('`maxRetries` next to `client` sets the attempts per call; without it, the given client’s own maxRetries does', async () => {
    const attempts = async (options: Partial<ResilientOptions>, azure: AzureOptions) => {
      const primary = await azureUpstream();
      primary.setFault({ kind: 'status', status: 500 });
      const given = azureOn(primary, { deployment: 'dep', ...azure });
      const client = track(new ResilientOpenAI({ client: given, fallback: [], healthCheck: false, retry, ...options }));
      await expect(client.chat.completions.create(chat)).rejects.toMatchObject({ status: 500 });
      // The given client is used as it is: its own setting is not changed.
      expect(given.maxRetries).toBe(azure.maxRetries ?? 2);
      return { count: primary.count(), maxRetries: client.maxRetries };
    };
    expect(await attempts({ maxRetries: 0 }, {})).toEqual({ count: 1, maxRetries: 0 });
    expect(await attempts({ maxRetries: 3 }, { maxRetries: 1 })).toEqual({ count: 4, maxRetries: 3 });
    expect(await attempts({}, { maxRetries: 1 })).toEqual({ count: 2, maxRetries: 1 });
    expect(await attempts({}, {})).toEqual({ count: 3, maxRetries: 2 });
  });

  it('`maxRetries` next to `client` is checked like any maxRetries', () => {
    const given = new AzureOpenAI({ apiKey: AZURE_KEY, endpoint: 'http://127.0.0.1:1', apiVersion: API_VERSION });
    expect(() => new ResilientOpenAI({ client: given, maxRetries: -1, fallback: [] })).toThrow(
      /expected `maxRetries` to be an integer from 0 to 99, got -1/,
    );
  });
});

describe('the default fallback never gets the primary client’s key', () => {
  it('with OPENAI_API_KEY unset: a TypeError that names the default fallback and the ways out (not the SDK’s “Missing credentials”)', () => {
    vi.stubEnv('OPENAI_API_KEY', undefined);
    vi.stubEnv('OPENAI_ADMIN_KEY', undefined);
    const given = new AzureOpenAI({ apiKey: AZURE_KEY, endpoint: 'http://127.0.0.1:1', apiVersion: API_VERSION });
    let error: unknown;
    try {
      new ResilientOpenAI({ client: given, healthCheck: false });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(TypeError);
    expect((error as Error).message).toBe(
      'resilient-openai: no API key for the default fallback (https://api.openai.com/v1): set OPENAI_API_KEY, or pass `fallback` (`fallback: []` for none). The key of `client` is never sent to another endpoint',
    );
    expect((error as Error).message).not.toContain(AZURE_KEY);
    // The ways out work.
    expect(() => track(new ResilientOpenAI({ client: given, healthCheck: false, fallback: [] }))).not.toThrow();
    expect(() => track(new ResilientOpenAI({ client: given, healthCheck: false, fallback: { apiKey: 'sk-given-123456' } }))).not.toThrow();
  });

  it('an options fallback without a key, next to `client`, is the same error naming that fallback', () => {
    vi.stubEnv('OPENAI_API_KEY', undefined);
    const given = new AzureOpenAI({ apiKey: AZURE_KEY, endpoint: 'http://127.0.0.1:1', apiVersion: API_VERSION });
    expect(
      () => new ResilientOpenAI({ client: given, fallback: [{ apiKey: 'sk-a-123456' }, { baseURL: 'http://127.0.0.1:2/v1' }] }),
    ).toThrow(
      /^resilient-openai: no API key for `fallback\[1\]` \(http:\/\/127\.0\.0\.1:2\/v1\): pass its `apiKey`, or set OPENAI_API_KEY\. The key of `client` is never sent to another endpoint$/,
    );
  });

  it('with OPENAI_API_KEY set: the default fallback (the official API) uses that key, not the Azure key', async () => {
    vi.stubEnv('OPENAI_API_KEY', 'sk-official-ENV-5e6f7a8b');
    const client = track(
      new ResilientOpenAI({
        client: new AzureOpenAI({ apiKey: AZURE_KEY, baseURL: (await refusedURL()).replace('/v1', '/openai'), apiVersion: API_VERSION }),
        healthCheck: false,
      }),
    );
    expect(client.getStatus().endpoints.map((e) => [e.name, e.baseURL])).toEqual([
      ['primary', expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/openai$/)],
      ['fallback', 'https://api.openai.com/v1'],
    ]);
    // The refused primary fails its probe: the default fallback is active (nothing is sent to it here).
    expect(await client.checkPrimary()).toBe(false);
    expect(client.activeEndpoint).toBe('fallback');
    const inner = client.activeClient;
    expect(inner).not.toBeInstanceOf(AzureOpenAI);
    expect(inner.baseURL).toBe('https://api.openai.com/v1');
    expect(inner.apiKey).toBe('sk-official-ENV-5e6f7a8b');
  });
});

describe('`client` is the whole primary: connection options next to it, or a client that is none, are TypeErrors', () => {
  const given = () => new AzureOpenAI({ apiKey: AZURE_KEY, endpoint: 'http://127.0.0.1:1', apiVersion: API_VERSION });
  const cases: [string, Partial<ResilientOptions>][] = [
    ['baseURL', { baseURL: 'http://127.0.0.1:2/v1' }],
    ['apiKey', { apiKey: 'sk-other-123456' }],
    ['defaultHeaders', { defaultHeaders: { 'x-team': 'a' } }],
    ['defaultQuery', { defaultQuery: { team: 'a' } }],
    ['timeout', { timeout: 5000 }],
    ['organization', { organization: 'org-1' }],
  ];
  for (const [key, options] of cases) {
    it(`\`client\` and \`${key}\``, () => {
      expect(() => new ResilientOpenAI({ client: given(), fallback: [], ...options })).toThrow(TypeError);
      expect(() => new ResilientOpenAI({ client: given(), fallback: [], ...options })).toThrow(
        `resilient-openai: \`client\` and \`${key}\` cannot be combined: the primary is the client you pass, so set \`${key}\` on that client`,
      );
    });
  }

  const notClients: [string, unknown, string][] = [
    ['{}', {}, 'an object (empty)'],
    ["'x'", 'x', '"x"'],
    ['null', null, 'null'],
    ['an OpenAI-shaped object', { apiKey: 'sk-x-123456', baseURL: 'http://127.0.0.1:1/v1', chat: {} }, 'an object (apiKey, baseURL, chat)'],
  ];
  for (const [label, value, shown] of notClients) {
    it(`client: ${label}`, () => {
      const make = () => new ResilientOpenAI({ client: value as never, fallback: [] });
      expect(make).toThrow(TypeError);
      expect(make).toThrow(`resilient-openai: expected \`client\` to be an OpenAI or AzureOpenAI instance, got ${shown}`);
    });
  }
});

describe('a plain OpenAI instance as the primary', () => {
  it('works the same: its URL and key, failover on a 502, its base URL in the status', async () => {
    const primary = await upstream('primary');
    const fallback = await upstream('fallback');
    const given = new OpenAI({ apiKey: 'sk-plain-SECRET-3c4d5e6f', baseURL: primary.url });
    const client = track(
      new ResilientOpenAI({
        client: given,
        name: 'plain',
        fallback: { apiKey: FALLBACK_KEY, baseURL: fallback.url },
        healthCheck: false,
        retry,
      }),
    );
    const events = record(client);
    expect(client.activeClient).toBe(given);
    await expect(client.chat.completions.create(chat)).resolves.toMatchObject({
      choices: [{ message: { content: 'hello from primary' } }],
    });
    expect(primary.requests[0]!.headers.authorization).toBe('Bearer sk-plain-SECRET-3c4d5e6f');
    primary.setFault({ kind: 'bad-gateway' });
    await expect(client.chat.completions.create(chat)).resolves.toMatchObject({
      choices: [{ message: { content: 'hello from fallback' } }],
    });
    expect(events.switched[0]).toMatchObject({ from: 'plain', to: 'fallback', reason: 'error' });
    expect(fallback.requests[0]!.headers.authorization).toBe(`Bearer ${FALLBACK_KEY}`);
    const status = client.getStatus();
    expect(status.mainApi).toBe(primary.url);
    expect(JSON.stringify(status)).not.toContain('sk-plain-SECRET-3c4d5e6f');
  });
});

describe('affinity with an Azure primary', () => {
  /** Azure primary and OpenAI fallback, both keeping stored state; the Azure upstream serves it below /openai. */
  async function storedAzure(options: Partial<ResilientOptions> = {}) {
    const primary = await azureUpstream({ stored: true });
    const fallback = track(await startUpstream({ name: 'fallback', stored: true }));
    const client = track(
      new ResilientOpenAI({
        client: azureOn(primary, { deployment: 'dep' }),
        fallback: { apiKey: FALLBACK_KEY, baseURL: fallback.url },
        healthCheck: false,
        retry,
        ...options,
      }),
    );
    return { primary, fallback, client };
  }

  it('a file and a response created through it are remembered there, and calls naming them go there while the fallback is active', async () => {
    const { client, primary, fallback } = await storedAzure();
    expect(client.getStatus().affinity.size).toBe(0);
    const file = await client.files.create({ file: await toFile(Buffer.from('{"a":1}\n'), 'data.jsonl'), purpose: 'batch' });
    expect(file.id).toBe('file-azure-1');
    expect(client.getStatus().affinity.size).toBe(1);
    const response = await client.responses.create({ model: 'gpt-test', input: 'hi' });
    expect(response.id).toBe('resp_azure_2');
    // The response and its output message.
    expect(client.getStatus().affinity.size).toBe(3);
    expect(primary.requests.map((r) => [r.method, r.path, r.headers['api-key'], r.query['api-version']])).toEqual([
      ['POST', '/openai/files', AZURE_KEY, API_VERSION],
      ['POST', '/openai/responses', AZURE_KEY, API_VERSION],
    ]);

    // The Azure primary fails: traffic moves to the fallback, and the primary's breaker stays open.
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create(chat);
    expect(client.activeEndpoint).toBe('fallback');
    primary.setFault(null);
    primary.reset();
    fallback.reset();

    await expect(client.files.retrieve(file.id)).resolves.toMatchObject({ id: file.id });
    const next = await client.responses.create({ model: 'gpt-test', input: 'more', previous_response_id: response.id });
    expect(next.output_text).toBe('hello from azure');
    expect(primary.requests.map((r) => [r.method, r.path, r.headers['api-key']])).toEqual([
      ['GET', `/openai/files/${file.id}`, AZURE_KEY],
      ['POST', '/openai/responses', AZURE_KEY],
    ]);
    expect(fallback.count()).toBe(0);
  });

  it('without affinity (the control): the same id read while the fallback is active goes to the fallback and gets its 404', async () => {
    const { client, primary, fallback } = await storedAzure({ affinity: false });
    const file = await client.files.create({ file: await toFile(Buffer.from('{"a":1}\n'), 'data.jsonl'), purpose: 'batch' });
    expect(client.getStatus().affinity.size).toBe(0);
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create(chat);
    primary.setFault(null);
    await expect(client.files.retrieve(file.id)).rejects.toMatchObject({ status: 404 });
    expect(fallback.count(`/files/${file.id}`)).toBe(1);
  });
});
