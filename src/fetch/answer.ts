// How a call through `client.fetch` ends, as fetch() ends: a Response for every HTTP answer
// (the last attempt's, when the call failed with one), a rejection for everything else. Host
// libraries then handle our outcomes with the code they already have for fetch().
import { APIError, APIUserAbortError } from 'openai';
import { keptAnswer } from '../streams/kept-answers.js';
import { redactURL, type SecretSet } from '../observe/redact.js';

// Describe a body that is no longer the bytes received (fetch() has decoded it), or a connection.
const STALE_HEADERS = new Set(['content-length', 'content-encoding', 'transfer-encoding', 'connection', 'keep-alive']);

function scrubbedHeaders(headers: Headers | undefined, secrets: SecretSet): Headers {
  const out = new Headers();
  headers?.forEach((value, name) => {
    if (!STALE_HEADERS.has(name)) out.append(name, secrets.scrub(value));
  });
  return out;
}

/** The answer's own URL, redacted as the winning Response's is (see withSafeURL). */
function withURL(url: string, response: Response): Response {
  if (url) Object.defineProperty(response, 'url', { value: redactURL(url), configurable: true });
  return response;
}

/**
 * The HTTP answer behind a call's final error: the copy the endpoint's fetch kept, or, for a
 * client whose fetch we do not wrap (an instance given as an endpoint), rebuilt from the SDK's
 * error (its status and headers, and the `error` object of the body). Any credential of ours an
 * upstream echoed is replaced, as everywhere we produce text.
 */
async function failedAnswer(error: unknown, secrets: SecretSet): Promise<Response | undefined> {
  const kept = keptAnswer(error);
  // A copy whose body cannot be read (cut mid-way) gives way to what the SDK's error kept.
  const text = kept ? await kept.text().catch(() => undefined) : undefined;
  if (kept && text !== undefined) {
    return withURL(
      kept.url,
      new Response(secrets.scrub(text), {
        status: kept.status,
        statusText: secrets.scrub(kept.statusText),
        headers: scrubbedHeaders(kept.headers, secrets),
      }),
    );
  }
  if (!(error instanceof APIError) || typeof error.status !== 'number' || !error.headers) return undefined;
  const status: number = error.status;
  const inner: unknown = error.error;
  const body =
    inner !== undefined ? JSON.stringify({ error: inner })
    : error.message.startsWith(`${status} status code`) ? ''
    : error.message.replace(`${status} `, '');
  return new Response(secrets.scrub(body), { status, headers: scrubbedHeaders(error.headers as Headers, secrets) });
}

/**
 * What fetch() would have done instead of answering: the caller's abort rejects with its
 * signal's reason; a failure without an HTTP answer (refused, reset, timed out, a body cut
 * before output) rejects as fetch() does, a TypeError "fetch failed" whose `cause` is our typed
 * error. Host libraries recognise exactly that as a connection error.
 */
function rejection(error: unknown, signal: AbortSignal | null | undefined): unknown {
  if (signal?.aborted) return signal.reason;
  // Ours, before anything was sent (an invalid `x-resilient-failover`): bad input, not a network failure.
  if (error instanceof TypeError) return error;
  if (error instanceof APIUserAbortError) return new DOMException('This operation was aborted', 'AbortError');
  return new TypeError('fetch failed', { cause: error });
}

/** The Response for a call's final error, or throws what fetch() would reject with. */
export async function answerFailure(error: unknown, signal: AbortSignal | null | undefined, secrets: SecretSet): Promise<Response> {
  const answer = await failedAnswer(error, secrets);
  if (answer) return answer;
  throw rejection(error, signal);
}
