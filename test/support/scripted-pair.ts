import { ResilientOpenAI, type ResilientOptions } from '../../src/index.js';
import { scriptedUpstream, type Step } from './scripted-sse.js';

/**
 * A client over two scripted upstreams, a primary and a fallback, with the health timer off: the
 * setup of the stream-edge tests. All three go into `open`, for the test file to close.
 */
export async function scriptedPair(
  answers: { primary: (path: string) => Step[]; fallback: (path: string) => Step[] },
  options: Partial<ResilientOptions>,
  open: { close(): unknown }[],
) {
  const primary = await scriptedUpstream(answers.primary);
  const fallback = await scriptedUpstream(answers.fallback);
  open.push(primary, fallback);
  const client = new ResilientOpenAI({
    apiKey: 'sk-primary-0123456789',
    baseURL: primary.url,
    fallback: { apiKey: 'sk-fallback-0123456789', baseURL: fallback.url },
    healthCheck: false,
    ...options,
  });
  open.push(client);
  return { client, primary, fallback };
}
