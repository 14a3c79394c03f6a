/**
 * A create of stored state may leave an endpoint it provably never reached: the connection was
 * refused or the name did not resolve, so nothing was created there. Anything that may have
 * arrived (a 502, a reset) stays, as before: a second create elsewhere would split the data.
 */
import { APIConnectionError, APIConnectionTimeoutError, InternalServerError, toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { ResilientOpenAI, withFailover } from '../../src/index.js';
import { neverArrived } from '../../src/routing/classify.js';
import { clientFor, fallbackOn, PRIMARY_KEY, record, track, upstream } from '../support/harness.js';
import { refusedURL } from '../support/upstream/ports.js';

const file = () => toFile(Buffer.from('{"a":1}\n'), 'data.jsonl');

async function downPrimary(primaryURL: string) {
  const fallback = await upstream('fallback', { stored: true });
  // The breaker never opens here: every call starts on the primary, so each one shows the rule.
  const client = track(
    new ResilientOpenAI({
      apiKey: PRIMARY_KEY,
      baseURL: primaryURL,
      healthCheck: false,
      fallback: fallbackOn(fallback),
      retry: { initialDelayMs: 1, maxDelayMs: 5 },
      breaker: { failureThreshold: 1000, minimumCalls: 1000 },
    }),
  );
  return { client, fallback, events: record(client) };
}

describe('creates that never arrived fail over', () => {
  it('a primary that refuses connections from the start: files, vector stores and batches are created on the fallback', async () => {
    const { client, fallback, events } = await downPrimary(await refusedURL());
    const f = await client.files.create({ file: await file(), purpose: 'batch' });
    const store = await client.vectorStores.create({ name: 'docs' });
    const batch = await client.batches.create({ input_file_id: f.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect(fallback.stored!.ids().sort()).toEqual([f.id, store.id, batch.id].sort());
    expect(events.switched).toEqual([]);
    // Each create failed over once (the batch named a known id and went straight to its home).
    expect(events.retry.map((e) => `${e.from}->${e.endpoint}`)).toEqual(['primary->fallback', 'primary->fallback']);
    // Remembered on the endpoint that created them: reads go there at once, with the primary still active.
    expect(client.activeEndpoint).toBe('primary');
    expect((await client.files.retrieve(f.id)).id).toBe(f.id);
    expect(events.retry).toHaveLength(2);
  });

  it('a primary whose name does not resolve: the create fails over too', async () => {
    const { client, fallback } = await downPrimary('http://primary.invalid/v1');
    const f = await client.files.create({ file: await file(), purpose: 'batch' });
    expect(fallback.stored!.ids('file')).toEqual([f.id]);
  });

  it("withFailover('deny') keeps even a refused create where it started", async () => {
    const { client, fallback } = await downPrimary(await refusedURL());
    await expect(client.files.create({ file: await file(), purpose: 'batch' }, withFailover('deny'))).rejects.toBeInstanceOf(
      APIConnectionError,
    );
    expect(fallback.count()).toBe(0);
  });

  for (const fault of [{ kind: 'bad-gateway' }, { kind: 'reset' }] as const) {
    it(`a create that may have arrived (${fault.kind}) stays on its endpoint`, async () => {
      const primary = await upstream('primary', { stored: true });
      const fallback = await upstream('fallback', { stored: true });
      const client = track(
        clientFor(primary, {
          fallback: fallbackOn(fallback),
          retry: { initialDelayMs: 1, maxDelayMs: 5 },
          breaker: { failureThreshold: 1000 },
        }),
      );
      primary.setFault(fault);
      await expect(client.files.create({ file: await file(), purpose: 'batch' })).rejects.toBeInstanceOf(
        fault.kind === 'reset' ? APIConnectionError : InternalServerError,
      );
      expect(primary.count('/files')).toBe(3);
      expect(fallback.count()).toBe(0);
    });
  }
});

describe('neverArrived', () => {
  const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:9'), { code: 'ECONNREFUSED' });
  const connection = (cause: unknown) => new APIConnectionError({ message: 'Connection error.', cause: cause as Error });
  const cases: [string, unknown, boolean][] = [
    [
      'refused (undici: TypeError fetch failed, cause ECONNREFUSED)',
      connection(Object.assign(new TypeError('fetch failed'), { cause: refused })),
      true,
    ],
    [
      'every address refused (AggregateError)',
      connection(
        Object.assign(new TypeError('fetch failed'), {
          cause: Object.assign(new AggregateError([refused, refused]), { code: 'ECONNREFUSED' }),
        }),
      ),
      true,
    ],
    ['every address refused, no code on the aggregate', connection(new AggregateError([refused, refused])), true],
    ['DNS: ENOTFOUND', connection(Object.assign(new Error('getaddrinfo ENOTFOUND x.invalid'), { code: 'ENOTFOUND' })), true],
    ['Bun: ConnectionRefused', connection(Object.assign(new Error('Unable to connect'), { code: 'ConnectionRefused' })), true],
    ['reset', connection(Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' })), false],
    [
      'some addresses refused, one reset',
      connection(new AggregateError([refused, Object.assign(new Error('reset'), { code: 'ECONNRESET' })])),
      false,
    ],
    ['a browser fetch failure (no code)', connection(new TypeError('Failed to fetch')), false],
    ['a timeout', new APIConnectionTimeoutError(), false],
    ['a plain error with the code (not from the SDK)', refused, false],
  ];
  for (const [name, error, expected] of cases) it(`${name}: ${expected}`, () => expect(neverArrived(error)).toBe(expected));
});
