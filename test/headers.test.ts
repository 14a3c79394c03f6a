import { describe, expect, it } from 'vitest';
import { withFailover } from '../src/index.js';
import { chat, setup } from './support/harness.js';
import type { Upstream } from './support/upstream.js';

const last = (upstream: Upstream) => upstream.requests.at(-1)!.headers;

describe('withOptions({ defaultHeaders })', () => {
  it('takes a record, a Headers and entry arrays, each merged over the earlier ones', async () => {
    const { client, primary } = await setup();
    const a = client.withOptions({ defaultHeaders: { 'X-One': 'record', 'x-two': 'record', 'x-three': 'record' } });
    const b = a.withOptions({ defaultHeaders: new Headers({ 'x-two': 'headers' }) });
    const c = b.withOptions({ defaultHeaders: [['X-Three', 'entries']] });
    await c.models.list();
    expect(last(primary)).toMatchObject({ 'x-one': 'record', 'x-two': 'headers', 'x-three': 'entries' });
    // The clients it came from keep their own.
    await b.models.list();
    expect(last(primary)).toMatchObject({ 'x-one': 'record', 'x-two': 'headers', 'x-three': 'record' });
    await client.models.list();
    expect(last(primary)['x-one']).toBeUndefined();
  });

  it('a header repeated in one source, or given as an array, is sent with all its values', async () => {
    const { client, primary } = await setup();
    const derived = client.withOptions({
      defaultHeaders: [
        ['x-list', 'a'],
        ['x-list', 'b'],
      ],
    });
    await derived.models.list({ headers: { 'x-array': ['c', 'd'] } });
    expect(last(primary)).toMatchObject({ 'x-list': 'a, b', 'x-array': 'c, d' });
  });

  it('a Headers alone arrives (it used to be spread, which drops every header)', async () => {
    const { client, primary } = await setup();
    await client.withOptions({ defaultHeaders: new Headers({ 'x-tenant': 't1' }) }).models.list();
    expect(last(primary)['x-tenant']).toBe('t1');
  });

  it('null removes an earlier header, and the SDK own; undefined leaves it; a request header wins', async () => {
    const { client, primary } = await setup();
    await client.models.list();
    expect(last(primary)['x-stainless-lang']).toBe('js'); // control: the SDK sends it
    const base = client.withOptions({ defaultHeaders: { 'x-keep': '1', 'x-drop': '1', 'x-mine': 'default' } });
    const derived = base.withOptions({ defaultHeaders: { 'x-drop': null, 'x-stainless-lang': null, 'x-keep': undefined } });
    await derived.models.list({ headers: { 'x-mine': 'request', 'x-keep': undefined } });
    const sent = last(primary);
    expect(sent).toMatchObject({ 'x-keep': '1', 'x-mine': 'request' });
    expect(sent['x-drop']).toBeUndefined();
    expect(sent['x-stainless-lang']).toBeUndefined();
  });

  it('merges with the headers an SDK resource builds itself (here `OpenAI-Beta`)', async () => {
    const { client, primary } = await setup();
    const derived = client.withOptions({ defaultHeaders: { 'x-tenant': 't1' } });
    // The loopback upstream has no /threads route: the 404 is answered after the headers are recorded.
    await expect(derived.beta.threads.create({}, { headers: { 'x-trace': 'r1' } })).rejects.toMatchObject({ status: 404 });
    const sent = last(primary);
    expect(sent).toMatchObject({ 'openai-beta': 'assistants=v2', 'x-tenant': 't1', 'x-trace': 'r1' });
    expect(sent.values).toBeUndefined();
    expect(sent.nulls).toBeUndefined();
  });

  it('an invalid x-resilient-failover default is a TypeError at withOptions(), naming header and value', async () => {
    const { client } = await setup();
    expect(() => client.withOptions({ defaultHeaders: { 'X-Resilient-Failover': 'sometimes' } })).toThrow(TypeError);
    expect(() => client.withOptions({ defaultHeaders: new Headers({ 'x-resilient-failover': 'never' }) })).toThrow(
      /`x-resilient-failover` header to be 'allow' or 'deny', got "never"/,
    );
    // Control: valid values, and null, are accepted.
    for (const value of ['allow', 'DENY', null])
      expect(() => client.withOptions({ defaultHeaders: { 'x-resilient-failover': value } })).not.toThrow();
  });
});

describe('x-resilient-failover', () => {
  it('an invalid value rejects the call with a TypeError naming header and value; nothing reaches an upstream', async () => {
    const { client, primary, fallback } = await setup();
    const forms = [
      { 'x-resilient-failover': 'sometimes' },
      new Headers({ 'X-Resilient-Failover': 'sometimes' }),
      [['x-resilient-failover', 'sometimes']] as [string, string][],
    ];
    for (const headers of forms) {
      const call = client.chat.completions.create(chat, { headers });
      await expect(call).rejects.toThrow(TypeError);
      await expect(call).rejects.toThrow(/`x-resilient-failover` header to be 'allow' or 'deny', got "sometimes"/);
    }
    // Also with withOptions() defaults (another path through the headers) and on a stateful call.
    const derived = client.withOptions({ defaultHeaders: { 'x-tenant': 't1' } });
    await expect(derived.batches.list({}, { headers: { 'x-resilient-failover': 'yes' } })).rejects.toThrow(/got "yes"/);
    expect(primary.count()).toBe(0);
    expect(fallback.count()).toBe(0);
    // Control: the same calls without the header reach the primary.
    await client.chat.completions.create(chat);
    await derived.batches.list({});
    expect(primary.count()).toBe(2);
  });

  it('allow and deny in any case take effect and are never sent upstream', async () => {
    const { client, primary, fallback } = await setup();
    primary.setFault({ kind: 'bad-gateway' });
    // 'DENY' keeps a stateless call on the primary; without it, the same call fails over.
    await expect(client.chat.completions.create(chat, { headers: { 'X-Resilient-Failover': 'DENY' } })).rejects.toMatchObject({
      status: 502,
    });
    expect(fallback.count()).toBe(0);
    expect(last(primary)['x-resilient-failover']).toBeUndefined();
    // ' Allow ' lets a stateful call (listing batches) fail over.
    const page = await client.batches.list({}, { headers: new Headers({ 'x-resilient-failover': ' Allow ' }) });
    expect(page.data).toBeDefined();
    expect(fallback.count('/batches')).toBe(1);
    expect(last(fallback)['x-resilient-failover']).toBeUndefined();
  });

  it('withFailover() on a resource that builds its own headers takes effect and is not sent upstream', async () => {
    const { client, primary, fallback } = await setup();
    primary.setFault({ kind: 'bad-gateway' });
    // Without the override, a response delete addresses stored state and stays on the primary.
    await expect(client.responses.delete('resp_1')).rejects.toMatchObject({ status: 502 });
    expect(fallback.count()).toBe(0);
    // 'allow' moves it to the fallback (whose 404 shows the request arrived), without the header.
    await expect(client.responses.delete('resp_1', withFailover('allow'))).rejects.toMatchObject({ status: 404 });
    const sent = last(fallback);
    expect(sent.accept).toBe('*/*');
    expect(sent['x-resilient-failover']).toBeUndefined();
  });
});

describe('a failover override as a default', () => {
  it('withOptions({ defaultHeaders: { x-resilient-failover: deny } }) keeps the calls of that client on their endpoint', async () => {
    const { client, primary, fallback } = await setup();
    const pinned = client.withOptions({ defaultHeaders: { 'x-resilient-failover': 'deny' } });
    primary.queue({ kind: 'bad-gateway' }, { kind: 'bad-gateway' }, { kind: 'bad-gateway' });
    await expect(pinned.chat.completions.create(chat)).rejects.toMatchObject({ status: 502 });
    expect(fallback.count()).toBe(0);
    expect(primary.requests.every((r) => r.headers['x-resilient-failover'] === undefined)).toBe(true);
    // Positive control: a client without the default fails over on the same 502.
    const control = await setup();
    control.primary.queue({ kind: 'bad-gateway' });
    expect((await control.client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from fallback');
    expect(client).not.toBe(control.client);
  });

  it('on the client itself it is a TypeError at construction: the inner clients would send it upstream', async () => {
    const { ResilientOpenAI } = await import('../src/index.js');
    expect(() => new ResilientOpenAI({ apiKey: 'sk-x', defaultHeaders: { 'x-resilient-failover': 'deny' } })).toThrow(
      /`defaultHeaders\["x-resilient-failover"\]`.*withOptions/,
    );
  });
});
