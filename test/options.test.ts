import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ResilientOpenAI, type ResilientOptions } from '../src/index.js';
import { chat, localCoordination, track, upstream } from './support/harness.js';

afterEach(() => {
  vi.unstubAllEnvs();
});

function make(options: ResilientOptions) {
  return track(new ResilientOpenAI({ apiKey: 'sk-test-123456', healthCheck: false, ...options }));
}

describe('option validation at construction', () => {
  const cases: [ResilientOptions, RegExp][] = [
    [{ healthCheck: { intervalMs: 0 } }, /`healthCheck\.intervalMs` to be an integer from 100 to \d+, got 0/],
    [{ healthCheck: { timeoutMs: -5 } }, /`healthCheck\.timeoutMs`.*got -5/],
    [{ healthCheck: { probe: 'yes' as never } }, /`healthCheck\.probe` to be a function, got "yes"/],
    [{ healthCheck: true as never }, /`healthCheck` to be an options object or false, got true/],
    [{ retry: { maxAttempts: 0 } }, /`retry\.maxAttempts` to be an integer from 1 to 100, got 0/],
    [{ retry: { jitter: 2 } }, /`retry\.jitter` to be a number from 0 to 1, got 2/],
    [{ retry: { initialDelayMs: Number.NaN } }, /`retry\.initialDelayMs`.*got NaN/],
    [{ retry: { statuses: [429, 700] } }, /`retry\.statuses\[\]` to be an HTTP status code \(100-599\), got 700/],
    [{ retry: { shouldRetry: () => true } as never }, /`retry\.delayMs` to be a function/],
    [{ failover: { statuses: 'all' as never } }, /`failover\.statuses` to be an array of HTTP status codes, got "all"/],
    [{ failover: { connectionErrors: 'no' as never } }, /`failover\.connectionErrors` to be a boolean, got "no"/],
    [{ maxRetries: -1 }, /`maxRetries` to be an integer from 0 to 99, got -1/],
    [{ timeout: 0 }, /`timeout` to be an integer >= 1, got 0/],
    [{ baseURL: 'ftp://x' }, /`baseURL` to be an http\(s\) URL, got "ftp:"/],
    [{ baseURL: 'not a url' }, /`baseURL` to be an absolute http\(s\) URL, got a malformed URL/],
    [{ fallback: 42 as never }, /`fallback` to be client options or an OpenAI instance, got 42/],
    [{ fallback: [{ baseURL: 'nope' }] }, /`fallback\[0\]\.baseURL`/],
    [
      { fallback: [{ name: 'primary', baseURL: 'http://a/v1' }] },
      /`fallback\[0\]\.name` to be a name no other endpoint has, got "primary"/,
    ],
    [{ fallback: { name: 'x', client: {} as never } }, /`fallback\.client` to be an OpenAI instance/],
    [{ breaker: { failureThreshold: 0 } }, /`breaker\.failureThreshold` to be an integer from 1 to 1000, got 0/],
    [{ breaker: { failureRate: 1.5 } }, /`breaker\.failureRate` to be a number from 0\.01 to 1, got 1\.5/],
    [{ breaker: { cooldownMs: -1 } }, /`breaker\.cooldownMs`.*got -1/],
    [{ breaker: { halfOpenMaxCalls: 0 } }, /`breaker\.halfOpenMaxCalls`.*got 0/],
    [{ breaker: { successThreshold: 2.5 } }, /`breaker\.successThreshold`.*got 2\.5/],
    [{ breaker: { windowMs: 10 } }, /`breaker\.windowMs` to be an integer from 1000 to \d+, got 10/],
    [{ breaker: 'on' as never }, /`breaker` to be an options object, got "on"/],
    [{ timeouts: { requestMs: 0 } }, /`timeouts\.requestMs` to be an integer from 1 to \d+, got 0/],
    [{ timeouts: { streamHeadersMs: '20s' as never } }, /`timeouts\.streamHeadersMs`.*got "20s"/],
    [{ timeouts: { deadlineMs: Number.POSITIVE_INFINITY } }, /`timeouts\.deadlineMs`.*got Infinity/],
    [{ failover: { stateful: 'sometimes' as never } }, /`failover\.stateful` to be 'stay', 'failover' or a function, got "sometimes"/],
    [{ fallback: { timeout: -1 } }, /`fallback\.timeout` to be an integer >= 1, got -1/],
    [{ affinity: { maxIds: 0 } }, /`affinity\.maxIds` to be an integer from 1 to 10000000, got 0/],
    [{ affinity: { ttlMs: 500 } }, /`affinity\.ttlMs` to be an integer from 1000 to 31536000000, got 500/],
    [{ affinity: { maxIds: 1.5 } }, /`affinity\.maxIds`.*got 1\.5/],
    [{ affinity: true as never }, /`affinity` to be an options object or false, got true/],
    [{ coordination: localCoordination({ findHome: 'yes' as never }) }, /`coordination\.findHome` to be a function or absent, got "yes"/],
  ];
  for (const [options, message] of cases) {
    it(`rejects ${JSON.stringify(options)}`, () => {
      expect(() => make(options)).toThrow(TypeError);
      expect(() => make(options)).toThrow(message);
    });
  }

  it('a malformed URL with a token in it is not echoed', () => {
    expect(() => make({ baseURL: 'http://x:99999/v1?key=sk-secret-abcdef' })).toThrow(/malformed URL$/);
  });
});

describe('zero-config from the environment', () => {
  it('takes the primary from OPENAI_BASE_URL_PRO + OPENAI_API_KEY_PRO and the fallback key from OPENAI_API_KEY', async () => {
    const proxy = await upstream('proxy');
    vi.stubEnv('OPENAI_BASE_URL_PRO', proxy.url);
    vi.stubEnv('OPENAI_API_KEY_PRO', 'sk-pro-abcdef123');
    vi.stubEnv('OPENAI_API_KEY', 'sk-official-abcdef123');
    const client = track(new ResilientOpenAI());
    const status = client.getStatus();
    expect(status.mainApi).toBe(proxy.url);
    expect(status.fallbackApi).toBe('https://api.openai.com/v1');
    expect(client.baseURL).toBe(proxy.url);
    expect(status.healthCheck).toEqual({ enabled: true, intervalMs: 300_000 });
    await client.chat.completions.create(chat);
    expect(proxy.requests[0]!.headers.authorization).toBe('Bearer sk-pro-abcdef123');
    client.close();
  });

  it('the fallback falls back to the primary key when OPENAI_API_KEY is not set', async () => {
    const fallback = await upstream('fallback');
    const primary = await upstream('primary');
    primary.setFault({ kind: 'bad-gateway' });
    vi.stubEnv('OPENAI_API_KEY', '');
    vi.stubEnv('OPENAI_API_KEY_PRO', 'sk-pro-abcdef123');
    const client = make({ apiKey: undefined, baseURL: primary.url, fallback: { baseURL: fallback.url } });
    await client.chat.completions.create(chat);
    expect(fallback.requests[0]!.headers.authorization).toBe('Bearer sk-pro-abcdef123');
  });

  it('no key at all: a clear error', () => {
    vi.stubEnv('OPENAI_API_KEY_PRO', '');
    vi.stubEnv('OPENAI_API_KEY', '');
    expect(() => new ResilientOpenAI()).toThrow(/no API key for the primary endpoint: pass `apiKey`, or set OPENAI_API_KEY_PRO/);
  });

  it('an options fallback defaults to the official base URL, an instance is used as given', () => {
    const given = new OpenAI({ apiKey: 'sk-given-123456', baseURL: 'http://127.0.0.1:1/v1' });
    const client = make({ fallback: [{ apiKey: 'sk-a-123456' }, given, { name: 'named', client: given }] });
    expect(client.getStatus().endpoints.map((e) => [e.name, e.baseURL])).toEqual([
      ['primary', 'https://api.openai.com/v1'],
      ['fallback', 'https://api.openai.com/v1'],
      ['fallback-2', 'http://127.0.0.1:1/v1'],
      ['named', 'http://127.0.0.1:1/v1'],
    ]);
  });
});

describe('withOptions()', () => {
  it('returns a client sharing failover state and listeners, with its own per-request defaults', async () => {
    const primary = await upstream('primary');
    const fallback = await upstream('fallback');
    const client = make({ baseURL: primary.url, fallback: { apiKey: 'sk-f-123456', baseURL: fallback.url } });
    const switched: string[] = [];
    client.on('switched', (e) => switched.push(e.to));
    const derived = client.withOptions({ timeout: 5000, defaultHeaders: { 'x-derived': '1' }, maxRetries: 0 });
    expect(derived).toBeInstanceOf(ResilientOpenAI);
    expect(derived).not.toBe(client);
    primary.setFault({ kind: 'bad-gateway' });
    await expect(derived.chat.completions.create(chat)).rejects.toMatchObject({ status: 502 });
    expect(switched).toEqual(['fallback']);
    expect(client.activeEndpoint).toBe('fallback');
    await derived.chat.completions.create(chat, { headers: { 'x-own': '2' } });
    expect(fallback.requests[0]!.headers['x-derived']).toBe('1');
    expect(fallback.requests[0]!.headers['x-own']).toBe('2');
    expect(fallback.requests[0]!.headers['x-stainless-timeout']).toBe('5');
    await client.chat.completions.create(chat);
    expect(fallback.requests[1]!.headers['x-derived']).toBeUndefined();
    derived.close();
    expect(client.getStatus().closed).toBe(true);
  });

  it('rejects endpoint settings with a clear error', () => {
    const client = make({});
    expect(() => client.withOptions({ baseURL: 'http://x/v1' })).toThrow(/withOptions\(\) cannot change `baseURL`/);
    expect(() => client.withOptions({ apiKey: 'sk-new-123456' })).toThrow(/cannot change `apiKey`/);
  });
});

describe('zero-config never sends the official key to an environment-named proxy', () => {
  it('OPENAI_BASE_URL_PRO without OPENAI_API_KEY_PRO is an error, even with OPENAI_API_KEY set', () => {
    vi.stubEnv('OPENAI_BASE_URL_PRO', 'http://127.0.0.1:1/v1');
    vi.stubEnv('OPENAI_API_KEY_PRO', '');
    vi.stubEnv('OPENAI_API_KEY', 'sk-official-abcdef123');
    expect(() => new ResilientOpenAI()).toThrow(/OPENAI_BASE_URL_PRO is set but OPENAI_API_KEY_PRO is not/);
  });
});
