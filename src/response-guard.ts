import { APIConnectionError, APIConnectionTimeoutError, APIUserAbortError } from 'openai';
import { IncompleteStreamError } from './errors.js';
import { hasFirstEvent, TerminalScanner } from './sse-terminal.js';

/**
 * Runs `work`, aborting the attempt when `ms` passes first (the abort makes `work` reject), and
 * reports that as a timeout. One timer and no extra promise: this runs on every call.
 */
async function bounded<T>(work: () => Promise<T>, ms: number, controller: AbortController, what: string): Promise<T> {
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      controller.abort();
    },
    Math.max(0, ms),
  );
  try {
    return await work();
  } catch (error) {
    if (timedOut) throw new APIConnectionTimeoutError({ message: `Timed out waiting for ${what}.` });
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function bodyFailure(error: unknown, signal: AbortSignal | undefined, what: string): Error {
  if (error instanceof APIConnectionError) return error;
  if (signal?.aborted) return new APIUserAbortError();
  return new APIConnectionError({ message: `Connection error while reading ${what}.`, cause: error instanceof Error ? error : undefined });
}

function withURL(response: Response, original: Response): Response {
  // A rebuilt Response has no URL; keep the real one for logs and withResponse() users.
  Object.defineProperty(response, 'url', { value: original.url });
  return response;
}

const kBytes = Symbol('resilient-openai.body');
type Replayed = Response & { [kBytes]: Uint8Array; [kText]?: string };
const kText = Symbol('resilient-openai.text');

function textOf(response: Replayed): string {
  return (response[kText] ??= new TextDecoder().decode(response[kBytes]));
}

// Shared descriptors (no per-call closures): the methods read the bytes stored on the instance.
const REPLAY: PropertyDescriptorMap = {
  body: {
    get(this: Replayed) {
      return new Blob([this[kBytes].slice()]).stream();
    },
    configurable: true,
  },
  bodyUsed: { value: false, configurable: true },
  text: {
    value(this: Replayed) {
      return Promise.resolve(this).then(textOf);
    },
    configurable: true,
  },
  json: {
    value(this: Replayed) {
      return Promise.resolve(this).then((r) => JSON.parse(textOf(r)) as unknown);
    },
    configurable: true,
  },
  arrayBuffer: {
    value(this: Replayed) {
      return Promise.resolve(this[kBytes].slice().buffer);
    },
    configurable: true,
  },
  bytes: {
    value(this: Replayed) {
      return Promise.resolve(this[kBytes].slice());
    },
    configurable: true,
  },
  blob: {
    value(this: Replayed) {
      return Promise.resolve(new Blob([this[kBytes].slice()], { type: this.headers.get('content-type') ?? '' }));
    },
    configurable: true,
  },
  clone: {
    value(this: Replayed) {
      return withURL(new Response(this[kBytes].slice(), this), this);
    },
    configurable: true,
  },
};

// One prototype for every replayed response: a single prototype switch per call instead of
// defining eight properties on each instance.
const ReplayPrototype = Object.create(Response.prototype, REPLAY) as Response;

/**
 * Makes `response` serve its already-read body again: every body method and `body` itself work
 * as on a fresh Response.
 */
function replayable(response: Response, bytes: Uint8Array): Response {
  (response as Replayed)[kBytes] = bytes;
  return Object.setPrototypeOf(response, ReplayPrototype) as Response;
}

function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}

/**
 * Reads a non-streaming body inside the attempt, so that a cut or stalled body is an attempt
 * failure (retried, failed over) instead of an error after the call returned. Cancelling the
 * reader on timeout closes the connection; no AbortSignal is needed on this path.
 */
export async function bufferBody(response: Response, ms: number, signal: AbortSignal | undefined): Promise<Response> {
  const reader = response.body?.getReader();
  if (!reader) return response;
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      reader.cancel().catch(() => {});
    },
    Math.max(0, ms),
  );
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut) break;
      if (done) return replayable(response, concat(chunks, size));
      chunks.push(value);
      size += value.length;
    }
  } catch (error) {
    if (!timedOut) throw bodyFailure(error, signal, 'the response body');
  } finally {
    clearTimeout(timer);
  }
  throw new APIConnectionTimeoutError({ message: 'Timed out waiting for the response body.' });
}

/**
 * For SSE responses: waits for the first event inside the attempt (a stream that fails before
 * any event is an ordinary attempt failure), then hands out a body that ends with
 * `IncompleteStreamError` if the stream stops before its terminal event.
 */
export async function guardStream(
  response: Response,
  ms: number,
  controller: AbortController,
  signal: AbortSignal,
  endpoint: string,
): Promise<Response> {
  if (!response.body || !response.headers.get('content-type')?.includes('text/event-stream')) return response;
  const reader = response.body.getReader();
  const scanner = new TerminalScanner();
  const head: Uint8Array[] = [];
  let size = 0;
  try {
    await bounded(
      async () => {
        do {
          const { done, value } = await reader.read();
          if (done) throw new APIConnectionError({ message: 'The stream ended before its first event.' });
          head.push(value);
          size += value.length;
          scanner.feed(value);
        } while (!hasFirstEvent(head.length === 1 ? head[0]! : concat(head, size)));
      },
      ms,
      controller,
      'the first stream event',
    );
  } catch (error) {
    reader.cancel().catch(() => {});
    throw bodyFailure(error, signal, 'the stream');
  }

  const body = new ReadableStream<Uint8Array>({
    start(stream) {
      for (const chunk of head) stream.enqueue(chunk);
    },
    async pull(stream) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          if (scanner.seen) stream.close();
          else stream.error(new IncompleteStreamError(endpoint));
          return;
        }
        scanner.feed(value);
        stream.enqueue(value);
      } catch (error) {
        // An abort (user signal, `break`) passes through: the SDK's Stream ends quietly on it.
        if (signal.aborted) stream.error(error);
        // A connection lost after the terminal event cost nothing: the output is complete.
        else if (scanner.seen) stream.close();
        else stream.error(new IncompleteStreamError(endpoint, error));
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
  (response as Guarded)[kStream] = body;
  return Object.setPrototypeOf(response, GuardedPrototype) as Response;
}

const kStream = Symbol('resilient-openai.stream');
type Guarded = Response & { [kStream]: ReadableStream<Uint8Array> };
/** Reads a guarded body through a fresh Response, so every body method sees the guarded bytes. */
const viaGuard = (method: 'text' | 'json' | 'arrayBuffer' | 'blob' | 'bytes') => ({
  value(this: Guarded) {
    return new Response(this[kStream])[method]();
  },
  configurable: true,
});

// A streamed response keeps its identity (URL, headers, status) and only its body is swapped for
// the guarded one: cheaper than building a new Response per stream.
const GuardedPrototype = Object.create(Response.prototype, {
  body: {
    get(this: Guarded) {
      return this[kStream];
    },
    configurable: true,
  },
  bodyUsed: {
    get(this: Guarded) {
      return this[kStream].locked;
    },
    configurable: true,
  },
  text: viaGuard('text'),
  json: viaGuard('json'),
  arrayBuffer: viaGuard('arrayBuffer'),
  blob: viaGuard('blob'),
  bytes: viaGuard('bytes'),
}) as Response;
