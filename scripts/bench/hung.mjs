// 4. Hung primary: the proxy accepts the connection and never answers. Time to a successful answer
// with the default bounds (no timeouts configured), for a JSON call and for a stream, side by side.
import { now, startUpstream } from './lib.mjs';

const chat = { model: 'bench', messages: [{ role: 'user', content: 'hi' }] };

export async function hung({ ResilientOpenAI }) {
  const primary = await startUpstream('primary');
  const fallback = await startUpstream('fallback');
  primary.mode('hang');
  const client = new ResilientOpenAI({
    apiKey: 'sk-bench',
    baseURL: primary.url,
    fallback: { apiKey: 'sk-bench', baseURL: fallback.url },
    healthCheck: false,
  });
  // Two clients so that the JSON call does not open the breaker before the stream meets the hang.
  const streamClient = new ResilientOpenAI({
    apiKey: 'sk-bench',
    baseURL: primary.url,
    fallback: { apiKey: 'sk-bench', baseURL: fallback.url },
    healthCheck: false,
  });
  const time = async (fn) => {
    const t = now();
    await fn();
    return now() - t;
  };
  const [jsonMs, streamMs] = await Promise.all([
    time(() => client.chat.completions.create(chat)),
    time(async () => {
      for await (const _ of await streamClient.chat.completions.create({ ...chat, stream: true }));
    }),
  ]);
  // After the switch, later calls skip the hung primary entirely.
  const nextMs = await time(() => client.chat.completions.create(chat));
  await Promise.all([primary.close(), fallback.close()]);
  return { jsonMs, streamMs, nextMs };
}
