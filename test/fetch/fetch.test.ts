// client.fetch sends a host library's request as one call of the client: the endpoint's URL and
// credentials, its model map, failover, affinity and withOptions() defaults, as an SDK call gets.
import { APIConnectionError } from 'openai';
import { describe, expect, it } from 'vitest';
import { getServedBy } from '../../src/index.js';
import { chat, clientFor, fallbackOn, PRIMARY_KEY, FALLBACK_KEY, record, setup, storedSetup, track, upstream } from '../support/harness.js';
import { refusedURL } from '../support/upstream.js';
import { CHAT_URL, fetchOf, post } from './support.js';

const contentOf = async (response: Response) =>
  ((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;

describe('client.fetch: failover', () => {
  it('a primary 502 fails over: the Response is the fallback 200, served by the fallback, with one switched event', async () => {
    const { client, primary, fallback, events } = await setup();
    primary.setFault({ kind: 'bad-gateway' });
    const response = await fetchOf(client)(CHAT_URL, post(chat));
    expect(response.status).toBe(200);
    expect(getServedBy(response)).toBe('fallback');
    expect(await contentOf(response)).toBe('hello from fallback');
    expect(primary.count()).toBe(1);
    expect(fallback.count()).toBe(1);
    expect(events.switched).toEqual([expect.objectContaining({ from: 'primary', to: 'fallback', reason: 'error' })]);
  });

  it('a healthy primary serves the call itself', async () => {
    const { client, primary, fallback, events } = await setup();
    const response = await fetchOf(client)(CHAT_URL, post(chat));
    expect(getServedBy(response)).toBe('primary');
    expect(await contentOf(response)).toBe('hello from primary');
    expect([primary.count(), fallback.count(), events.switched.length]).toEqual([1, 0, 0]);
  });

  it('a refused primary fails over to the fallback', async () => {
    const fallback = await upstream('fallback');
    const client = track(clientFor(await refusedURL(), { fallback: fallbackOn(fallback), retry: { initialDelayMs: 1, maxDelayMs: 5 } }));
    const events = record(client);
    const response = await fetchOf(client)(CHAT_URL, post(chat));
    expect(response.status).toBe(200);
    expect(getServedBy(response)).toBe('fallback');
    expect(await contentOf(response)).toBe('hello from fallback');
    expect(fallback.count()).toBe(1);
    expect(events.switched).toHaveLength(1);
    expect(events.switched[0]).toMatchObject({ from: 'primary', to: 'fallback' });
    expect(events.switched[0]!.error).toBeInstanceOf(APIConnectionError);
  });
});

describe('client.fetch: the endpoint replaces the host library URL and credentials', () => {
  // Everything a host library configured for api.openai.com sends along with its own key.
  const callerHeaders = {
    Authorization: 'Bearer sk-caller-key-000000000',
    'OpenAI-Organization': 'org-caller',
    'OpenAI-Project': 'proj-caller',
    'x-stainless-retry-count': '7',
    'x-stainless-lang': 'python',
    'x-custom': '1',
    'user-agent': 'host-lib/1.0',
  };

  it("the upstream gets /v1/<path> with the endpoint's key; the caller's credentials and x-stainless-* stay behind, other headers arrive", async () => {
    const { client, primary } = await setup();
    const fetch = fetchOf(client);
    await fetch(CHAT_URL, post(chat, callerHeaders));
    await fetch('http://whatever.invalid/some/prefix/v1/embeddings', post({ model: 'e', input: 'x' }, callerHeaders));
    expect(primary.requests.map((r) => r.path)).toEqual(['/v1/chat/completions', '/v1/embeddings']);
    for (const { headers } of primary.requests) {
      expect(headers.authorization).toBe(`Bearer ${PRIMARY_KEY}`);
      expect(headers.host).toBe(new URL(primary.url).host);
      expect(headers['openai-organization']).toBeUndefined();
      expect(headers['openai-project']).toBeUndefined();
      // The SDK's own values: a first attempt, in JavaScript.
      expect(headers['x-stainless-retry-count']).toBe('0');
      expect(headers['x-stainless-lang']).toBe('js');
      expect(headers['x-custom']).toBe('1');
      expect(headers['user-agent']).toBe('host-lib/1.0');
    }
  });

  it('each endpoint configured with organization and project sends its own', async () => {
    const { client, primary, fallback } = await setup(
      { organization: 'org-primary', project: 'proj-primary' },
      { organization: 'org-fallback', project: 'proj-fallback' },
    );
    primary.setFault({ kind: 'bad-gateway' });
    expect((await fetchOf(client)(CHAT_URL, post(chat, callerHeaders))).status).toBe(200);
    const sent = (r: (typeof primary.requests)[number]) => [
      r.headers.authorization,
      r.headers['openai-organization'],
      r.headers['openai-project'],
    ];
    expect(primary.requests.map(sent)).toEqual([[`Bearer ${PRIMARY_KEY}`, 'org-primary', 'proj-primary']]);
    expect(fallback.requests.map(sent)).toEqual([[`Bearer ${FALLBACK_KEY}`, 'org-fallback', 'proj-fallback']]);
  });
});

describe('client.fetch: model map', () => {
  it("the fallback's models map renames the model of a fetch JSON body; the primary gets it unchanged", async () => {
    const { client, primary, fallback } = await setup({}, { models: { 'gpt-x': 'deploy-x' } });
    primary.setFault({ kind: 'bad-gateway' });
    const response = await fetchOf(client)(CHAT_URL, post({ ...chat, model: 'gpt-x' }));
    expect(((await response.json()) as { model: string }).model).toBe('deploy-x');
    expect(primary.requests.map((r) => (r.json as { model: string }).model)).toEqual(['gpt-x']);
    expect(fallback.requests.map((r) => (r.json as { model: string }).model)).toEqual(['deploy-x']);
  });
});

describe('client.fetch: affinity', () => {
  it('a response created on the fallback is read there through fetch, though the primary is active again', async () => {
    const { client, primary, fallback } = await storedSetup();
    const fetch = fetchOf(client);
    primary.setFault({ kind: 'bad-gateway' });
    const created = (await (await fetch('https://api.openai.com/v1/responses', post({ model: 'm', input: 'hi' }))).json()) as {
      id: string;
    };
    expect(created.id).toBe('resp_fallback_1');
    // Two passing probes close the primary's breaker: new calls go to the primary again.
    primary.setFault(null);
    await client.checkPrimary();
    await client.checkPrimary();
    expect(client.activeEndpoint).toBe('primary');
    primary.reset();
    fallback.reset();
    const read = await fetch(`https://api.openai.com/v1/responses/${created.id}`);
    expect(read.status).toBe(200);
    expect(getServedBy(read)).toBe('fallback');
    expect(((await read.json()) as { id: string }).id).toBe(created.id);
    expect(fallback.requests.map((r) => `${r.method} ${r.path}`)).toEqual([`GET /v1/responses/${created.id}`]);
    expect(primary.count()).toBe(0);
    // Positive control: a stateless call does go to the primary now.
    expect(getServedBy(await fetch(CHAT_URL, post(chat)))).toBe('primary');
  });
});

describe('client.fetch: withOptions()', () => {
  it("a derived client's fetch is its own function, and its requests carry the derived headers", async () => {
    const { client, primary } = await setup();
    const derived = client.withOptions({ defaultHeaders: { 'x-extra': 'a' } });
    expect(typeof derived['fetch']).toBe('function');
    expect(derived['fetch']).not.toBe(client['fetch']);
    await fetchOf(derived)(CHAT_URL, post(chat));
    await fetchOf(client)(CHAT_URL, post(chat));
    expect(primary.requests.map((r) => r.headers['x-extra'])).toEqual(['a', undefined]);
  });

  it('x-resilient-failover: deny keeps the call on the primary: its 502 page comes back, the fallback gets nothing', async () => {
    const { client, primary, fallback, events } = await setup();
    primary.setFault({ kind: 'bad-gateway' });
    const response = await fetchOf(client)(CHAT_URL, post(chat, { 'x-resilient-failover': 'deny' }));
    expect(response.status).toBe(502);
    expect(response.headers.get('server')).toBe('nginx');
    expect(await response.text()).toContain('<center><h1>502 Bad Gateway</h1></center>');
    // Retried on the primary as the default policy does (3 attempts), never moved.
    expect(primary.count()).toBe(3);
    expect(fallback.count()).toBe(0);
    // The primary's breaker still opened: later calls go to the fallback, this one did not.
    expect(events.switched).toEqual([expect.objectContaining({ from: 'primary', to: 'fallback', reason: 'error' })]);
    // The override is ours: it does not go on the wire.
    expect(primary.requests.map((r) => r.headers['x-resilient-failover'])).toEqual([undefined, undefined, undefined]);
  });
});
