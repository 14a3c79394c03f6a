import type { ResponseProps } from '../call/types.js';
import { redactURL, type SecretSet } from '../observe/redact.js';
import { answerFailure } from './answer.js';
import { toRequestOptions, type FetchInput } from './request.js';

/**
 * A Response whose `url` names no credential: host libraries log it, and an endpoint's URL may
 * carry a key in its query (`defaultQuery`) or userinfo.
 */
export function withSafeURL(response: Response): Response {
  const { url } = response;
  if (url.includes('?') || url.includes('@')) Object.defineProperty(response, 'url', { value: redactURL(url), configurable: true });
  return response;
}

/** The `fetch` that `client.fetch` is: the same signature as the global one. */
export type ResilientFetch = (input: FetchInput, init?: RequestInit) => Promise<Response>;

/**
 * A fetch() that sends each OpenAI API request as one call of the client: `run` is the client's
 * own call path (execute() with its defaults). A closure, not a method: host libraries call it
 * unbound.
 */
export function createResilientFetch(
  run: (options: Awaited<ReturnType<typeof toRequestOptions>>) => Promise<ResponseProps>,
  secrets: SecretSet,
): ResilientFetch {
  return async (input, init) => {
    // A bad URL or an unreadable body throws here, before anything is sent.
    const options = await toRequestOptions(input, init);
    let props: ResponseProps;
    try {
      props = await run(options);
    } catch (error) {
      return answerFailure(error, options.signal, secrets);
    }
    return withSafeURL(props.response);
  };
}
