/** The id store's bounds (size, time to live) and what a request names. */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { namedIds } from '../../src/affinity/named-ids.js';
import { HomeStore } from '../../src/affinity/store.js';
import { storedSetup } from '../support/harness.js';

afterEach(() => vi.useRealTimers());

describe('HomeStore', () => {
  it('forgets the least recently used id first; a lookup counts as a use', () => {
    const store = new HomeStore(2, 60_000);
    store.set('a', 0);
    store.set('b', 1);
    expect(store.get('a')).toBe(0);
    store.set('c', 1);
    expect([store.get('a'), store.get('b'), store.get('c'), store.size]).toEqual([0, undefined, 1, 2]);
  });

  it('forgets an id its time to live after the last answer that showed it', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = new HomeStore(10, 60_000);
    store.set('a', 3);
    vi.advanceTimersByTime(50_000);
    store.set('a', 3); // seen again: refreshed
    vi.advanceTimersByTime(50_000);
    expect(store.get('a')).toBe(3);
    vi.advanceTimersByTime(61_000);
    expect(store.get('a')).toBeUndefined();
    expect(store.size).toBe(0);
  });

  it('keeps endpoint indexes apart (up to 255)', () => {
    const store = new HomeStore(10, 1000);
    for (const index of [0, 1, 7, 255]) store.set(`id${index}`, index);
    expect([0, 1, 7, 255].map((index) => store.get(`id${index}`))).toEqual([0, 1, 7, 255]);
  });
});

describe('namedIds', () => {
  const cases: [string, Parameters<typeof namedIds>[0], string[]][] = [
    ['path ids after the resource', { path: '/vector_stores/vs_1/files/file-2' }, ['vs_1', 'files', 'file-2']],
    ['a /v1 prefix and a query string are not ids', { path: '/v1/files/file-1?x=1' }, ['file-1']],
    ['cursors', { path: '/files', query: { after: 'file-9', limit: 2 } }, ['file-9']],
    [
      'a previous response and a conversation object',
      { path: '/responses', body: { previous_response_id: 'resp_1', conversation: { id: 'conv_1' } } },
      ['resp_1', 'conv_1'],
    ],
    [
      'file search and code interpreter tools',
      {
        path: '/responses',
        body: {
          tools: [
            { type: 'file_search', vector_store_ids: ['vs_1'] },
            { type: 'code_interpreter', container: { type: 'auto', file_ids: ['file-1'] } },
          ],
        },
      },
      ['vs_1', 'file-1'],
    ],
    [
      'input items by id, and file parts',
      {
        path: '/responses',
        body: {
          input: [
            { type: 'item_reference', id: 'msg_1' },
            { role: 'user', content: [{ type: 'input_file', file_id: 'file-2' }] },
          ],
        },
      },
      ['msg_1', 'file-2'],
    ],
    [
      'assistants tool resources and attachments',
      {
        path: '/threads',
        body: {
          tool_resources: { code_interpreter: { file_ids: ['file-1'] }, file_search: { vector_store_ids: ['vs_1'] } },
          messages: [{ role: 'user', content: 'x', attachments: [{ file_id: 'file-3' }] }],
        },
      },
      ['file-1', 'vs_1', 'file-3'],
    ],
    [
      'a chat file part',
      { path: '/chat/completions', body: { messages: [{ role: 'user', content: [{ type: 'file', file: { file_id: 'file-4' } }] }] } },
      ['file-4'],
    ],
    [
      'fine-tuning files and a batch input',
      { path: '/fine_tuning/jobs', body: { training_file: 'file-5', validation_file: 'file-6' } },
      ['file-5', 'file-6'],
    ],
    [
      'multipart fields',
      {
        path: '/uploads/upload_1/parts',
        body: (() => {
          const f = new FormData();
          f.set('file_id', 'file-7');
          return f;
        })(),
      },
      ['upload_1', 'parts', 'file-7'],
    ],
    [
      'not inside schemas or metadata',
      { path: '/responses', body: { metadata: { file_id: 'nope' }, text: { format: { schema: { file_id: 'nope' } } } } },
      [],
    ],
    [
      'tool call ids are not item ids',
      { path: '/chat/completions', body: { messages: [{ role: 'assistant', tool_calls: [{ id: 'call_1' }] }] } },
      [],
    ],
  ];
  for (const [name, request, ids] of cases) it(name, () => expect(namedIds(request)).toEqual(ids));
});

describe('after the time to live', () => {
  it('an id is unknown again: the call goes where calls start (here the primary, which answers its 404)', async () => {
    const { client, primary, fallback } = await storedSetup({ affinity: { ttlMs: 60_000 } });
    vi.useFakeTimers({ toFake: ['Date'] });
    primary.setFault({ kind: 'bad-gateway' });
    const first = await client.responses.create({ model: 'm', input: 'hello' });
    primary.setFault(null);
    vi.advanceTimersByTime(30_000);
    await client.checkPrimary();
    await client.checkPrimary();
    expect((await client.responses.retrieve(first.id)).id).toBe(first.id);
    vi.advanceTimersByTime(61_000);
    await expect(client.responses.retrieve(first.id)).rejects.toMatchObject({ status: 404 });
    expect(primary.count(`/responses/${first.id}`)).toBe(1);
    expect(fallback.count(`/responses/${first.id}`)).toBe(1);
  });
});
