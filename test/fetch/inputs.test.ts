// Every input form fetch() takes reaches the upstream intact, on every attempt: a Request, a URL,
// a query, form data, a stream read once and sent again after a 502.
import { describe, expect, it } from 'vitest';
import { chat, setup } from '../support/harness.js';
import { parseMultipart } from '../support/upstream/multipart.js';
import { CHAT_URL, fetchOf, post } from './support.js';

const ids = async (response: Response) => ((await response.json()) as { data: { id: string }[] }).data.map((d) => d.id);

describe('client.fetch: inputs', () => {
  it('a Request with a JSON body', async () => {
    const { client, primary } = await setup();
    const response = await fetchOf(client)(new Request(CHAT_URL, post(chat, { 'x-custom': 'from-request' })));
    expect(response.status).toBe(200);
    expect(primary.requests.map((r) => [r.method, r.path, r.json, r.headers['x-custom']])).toEqual([
      ['POST', '/v1/chat/completions', chat, 'from-request'],
    ]);
  });

  it('a URL object', async () => {
    const { client, primary } = await setup();
    expect(await ids(await fetchOf(client)(new URL('https://api.openai.com/v1/models')))).toEqual(['model-a', 'model-b']);
    expect(primary.requests.map((r) => `${r.method} ${r.path}`)).toEqual(['GET /v1/models']);
  });

  it('query parameters arrive at the upstream', async () => {
    const { client, primary } = await setup();
    expect(await ids(await fetchOf(client)('https://api.openai.com/v1/batches?limit=2&after=batch_2'))).toEqual(['batch_3', 'batch_4']);
    expect(primary.requests.map((r) => r.query)).toEqual([{ limit: '2', after: 'batch_2' }]);
  });

  it('a multipart form is answered by the fallback after a primary 502: both got the whole form', async () => {
    const { client, primary, fallback } = await setup();
    primary.setFault({ kind: 'bad-gateway' });
    // Valid UTF-8 (the fake upstream records bodies as UTF-8 text), with a NUL and a 3-byte character.
    const audio = new TextEncoder().encode('RIFF\0€');
    const form = new FormData();
    form.append('file', new Blob([audio], { type: 'audio/wav' }), 'clip.wav');
    form.append('model', 'whisper-1');
    const response = await fetchOf(client)('https://api.openai.com/v1/audio/transcriptions', { method: 'POST', body: form });
    expect(await response.json()).toEqual({ text: 'transcribed clip.wav (8 bytes) by fallback' });
    const sent = [...primary.requests, ...fallback.requests].map((r) =>
      parseMultipart(Buffer.from(r.body, 'utf8'), String(r.headers['content-type'])).map((p) => [p.name, p.filename, [...p.data]]),
    );
    const whole = [
      ['file', 'clip.wav', [...audio]],
      ['model', undefined, [...Buffer.from('whisper-1')]],
    ];
    expect(sent).toEqual([whole, whole]);
  });

  it('a ReadableStream JSON body is read once and sent again after a 502', async () => {
    const { client, primary, fallback } = await setup();
    primary.queue({ kind: 'bad-gateway' });
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        const bytes = new TextEncoder().encode(JSON.stringify(chat));
        // In two chunks, as a host library's stream may deliver it.
        controller.enqueue(bytes.subarray(0, 10));
        controller.enqueue(bytes.subarray(10));
        controller.close();
      },
    });
    const init = { method: 'POST', headers: { 'content-type': 'application/json' }, body, duplex: 'half' } as RequestInit;
    const response = await fetchOf(client)(CHAT_URL, init);
    expect(response.status).toBe(200);
    expect([...primary.requests, ...fallback.requests].map((r) => r.json)).toEqual([chat, chat]);
  });

  it('bytes with a JSON type, and a JSON string without content type, are sent as JSON', async () => {
    const { client, primary } = await setup();
    const fetch = fetchOf(client);
    const json = { 'content-type': 'application/json' };
    await fetch(CHAT_URL, { method: 'POST', headers: json, body: new TextEncoder().encode(JSON.stringify(chat)) });
    await fetch(CHAT_URL, { method: 'POST', body: JSON.stringify(chat) });
    expect(primary.requests.map((r) => [r.headers['content-type'], r.json])).toEqual([
      ['application/json', chat],
      ['application/json', chat],
    ]);
  });
});
