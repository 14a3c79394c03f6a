/**
 * Calls that name a known id go to the endpoint that created it, whichever endpoint is active,
 * and end in that endpoint's own error while it is down. Upstreams keep stored state as the real
 * API does, so a call that reaches the wrong backend gets the real API's 404 or 400.
 */
import { toFile } from 'openai';
import { describe, expect, it } from 'vitest';
import { withFailover } from '../../src/index.js';
import { storedSetup } from '../support/harness.js';
import type { Upstream } from '../support/upstream.js';

const file = () => toFile(Buffer.from('{"a":1}\n'), 'data.jsonl');

/** Two passing probes close the primary's breaker (breaker.successThreshold): traffic is back on it. */
async function recover(client: { checkPrimary(): Promise<boolean>; activeEndpoint: string }, primary: Upstream) {
  primary.setFault(null);
  await client.checkPrimary();
  await client.checkPrimary();
  expect(client.activeEndpoint).toBe('primary');
  primary.reset();
}

describe('the home of an id is the endpoint that created it', () => {
  it('an id created on the primary, read while the primary is down: retried there, ending in its own error, never the fallback 404', async () => {
    const { client, primary, fallback, events } = await storedSetup();
    const created = await client.files.create({ file: await file(), purpose: 'batch' });
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    expect(client.activeEndpoint).toBe('fallback');
    fallback.reset();
    const retries = events.retry.length;
    await expect(client.files.retrieve(created.id)).rejects.toMatchObject({ status: 502 });
    await expect(client.vectorStores.create({ file_ids: [created.id] })).rejects.toMatchObject({ status: 502 });
    await expect(
      client.responses.create({ model: 'm', input: 'x', tools: [{ type: 'file_search', vector_store_ids: ['vs_unknown'] }] }),
    ).resolves.toMatchObject({
      output_text: 'hello from fallback',
    });
    // The two calls on the primary's file went there (3 attempts each); only the unrelated one reached the fallback.
    expect(primary.count(`/files/${created.id}`)).toBe(3);
    expect(primary.count('/vector_stores')).toBe(3);
    expect(fallback.requests.map((r) => r.path)).toEqual(['/v1/responses']);
    expect(events.retry.slice(retries).map((e) => e.endpoint)).toEqual(['primary', 'primary', 'primary', 'primary']);
  });

  it('an id unknown to this client keeps the old rule: the call stays on the endpoint it starts on', async () => {
    const { client, primary, fallback } = await storedSetup();
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
    await expect(client.files.retrieve('file-made-elsewhere')).rejects.toMatchObject({ status: 404 });
    expect(fallback.count('/files/file-made-elsewhere')).toBe(1);
    expect(primary.count('/files/file-made-elsewhere')).toBe(0);
  });

  it('a Responses stream: its id is remembered from the stream, and the chain continues on the fallback', async () => {
    const { client, primary, fallback } = await storedSetup();
    primary.setFault({ kind: 'bad-gateway' });
    const stream = await client.responses.create({ model: 'm', input: 'hello', stream: true });
    let id = '';
    for await (const event of stream) if (event.type === 'response.completed') id = event.response.id;
    expect(fallback.stored!.ids('response')).toEqual([id]);
    await recover(client, primary);
    const next = await client.responses.create({ model: 'm', input: 'more', previous_response_id: id });
    expect(next.output_text).toBe('hello from fallback');
    expect(primary.count('/responses')).toBe(0);
  });

  it('store: false with encrypted reasoning: the follow-up that carries it goes to the backend that can read it', async () => {
    const { client, primary, fallback } = await storedSetup();
    primary.setFault({ kind: 'bad-gateway' });
    const first = await client.responses.create({ model: 'm', input: 'think', store: false, include: ['reasoning.encrypted_content'] });
    expect(first.output[0]).toMatchObject({ type: 'reasoning', encrypted_content: 'sealed-by-fallback' });
    // Not stored, so nothing by the response's id: only the reasoning item is bound.
    expect(fallback.stored!.ids('response')).toEqual([]);
    await recover(client, primary);
    const input = [...first.output, { role: 'user' as const, content: 'go on' }] as never;
    const next = await client.responses.create({ model: 'm', input, store: false, include: ['reasoning.encrypted_content'] });
    expect(next.output_text).toBe('hello from fallback');
    expect(primary.count('/responses')).toBe(0);
    // Without the item, the same call is ordinary traffic again.
    expect((await client.responses.create({ model: 'm', input: 'new', store: false })).output_text).toBe('hello from primary');
  });

  it('files, vector stores, batches and conversations created during the outage are used where they live', async () => {
    const { client, primary, fallback } = await storedSetup();
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'trip the breaker' }] });
    const f = await client.files.create({ file: await file(), purpose: 'batch' });
    const conversation = await client.conversations.create({});
    expect(fallback.stored!.ids().sort()).toEqual([f.id, conversation.id].sort());
    await recover(client, primary);
    const store = await client.vectorStores.create({ name: 'docs', file_ids: [f.id] });
    await client.vectorStores.files.create(store.id, { file_id: f.id });
    const batch = await client.batches.create({ input_file_id: f.id, endpoint: '/v1/chat/completions', completion_window: '24h' });
    expect((await client.batches.retrieve(batch.id)).id).toBe(batch.id);
    const reply = await client.responses.create({ model: 'm', input: 'hi', conversation: conversation.id });
    expect(reply.output_text).toBe('hello from fallback');
    expect((await client.files.content(f.id).then((r) => r.text())).endsWith('from fallback')).toBe(true);
    expect(primary.count()).toBe(0);
    // Ordinary traffic is back on the primary.
    expect((await client.responses.create({ model: 'm', input: 'new' })).output_text).toBe('hello from primary');
  });

  it('a stored chat completion is read where it was stored', async () => {
    const { client, primary, fallback } = await storedSetup();
    primary.setFault({ kind: 'bad-gateway' });
    const stored = await client.chat.completions.create({ model: 'm', store: true, messages: [{ role: 'user', content: 'keep' }] });
    const unstored = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'forget' }] });
    await recover(client, primary);
    // The fake keeps no chat completions: what counts is where each read went.
    await client.chat.completions.retrieve(stored.id).catch(() => {});
    expect(fallback.count(`/chat/completions/${stored.id}`)).toBe(1);
    expect(primary.count(`/chat/completions/${stored.id}`)).toBe(0);
    await client.chat.completions.retrieve(unstored.id).catch(() => {});
    expect(primary.count(`/chat/completions/${unstored.id}`)).toBe(1);
  });

  it("withFailover('allow') routes a call on a known id like any other call", async () => {
    const { client, primary, fallback } = await storedSetup();
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'trip the breaker' }] });
    const f = await client.files.create({ file: await file(), purpose: 'batch' });
    expect(fallback.stored!.ids('file')).toEqual([f.id]);
    await recover(client, primary);
    await expect(client.files.retrieve(f.id, withFailover('allow'))).rejects.toMatchObject({ status: 404 });
    expect(primary.count(`/files/${f.id}`)).toBe(1);
  });

  it("failover: { stateful: 'failover' } (endpoints that share storage) turns homes off", async () => {
    const { client, primary } = await storedSetup({ failover: { stateful: 'failover' } });
    primary.setFault({ kind: 'bad-gateway' });
    const first = await client.responses.create({ model: 'm', input: 'hello' });
    await recover(client, primary);
    await expect(client.responses.retrieve(first.id)).rejects.toMatchObject({ status: 404 });
    expect(primary.count(`/responses/${first.id}`)).toBe(1);
    expect(client.getStatus().affinity.enabled).toBe(false);
  });
});

describe('a next page goes to the endpoint that served the previous page', () => {
  it('the primary served page 1, then its breaker opened: page 2 still goes to the primary', async () => {
    const { client, primary, fallback } = await storedSetup();
    for (let i = 0; i < 3; i++) await client.files.create({ file: await file(), purpose: 'batch' });
    const page1 = await client.files.list({ limit: 2 });
    expect(page1.data).toHaveLength(2);
    primary.queue({ kind: 'bad-gateway' });
    await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'trip' }] });
    expect(client.activeEndpoint).toBe('fallback');
    // The cursor is the primary's: on the fallback it would be an unknown cursor (a 404 there).
    const page2 = await page1.getNextPage();
    expect(page2.data.map((f) => f.id)).toEqual([primary.stored!.ids('file')[2]]);
    expect(fallback.count('/files')).toBe(0);
  });

  it('an opaque cursor too: the page remembers where it came from, not only the ids it listed', async () => {
    const { client, primary, fallback } = await storedSetup({ affinity: { maxIds: 1 } });
    for (let i = 0; i < 3; i++) await client.files.create({ file: await file(), purpose: 'batch' });
    const page1 = await client.files.list({ limit: 2 });
    // With room for one id only, reading the first file forgets the cursor (the second); the page still knows.
    await client.files.retrieve(page1.data[0]!.id);
    expect(client.getStatus().affinity.size).toBe(1);
    primary.queue({ kind: 'bad-gateway' });
    await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'trip' }] });
    await expect(page1.getNextPage()).resolves.toMatchObject({ data: [{ id: primary.stored!.ids('file')[2] }] });
    expect(fallback.count('/files')).toBe(0);
  });
});
