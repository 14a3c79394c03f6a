import { APIConnectionError } from 'openai';
import { bodyFailure, bounded } from './body-read.js';
import { IncompleteStreamError, StreamIdleTimeoutError } from './errors.js';
import { errorOfFrame } from './frame-errors.js';
import { keepAnswer } from './kept-answers.js';
import { StreamCheck } from './stream-check.js';

/** What the call learns from a stream after it was handed out: the breaker's verdict. */
export interface StreamWatch {
  /** The terminal frame arrived: the stream succeeded. */
  whole(): void;
  /** It failed after output reached the caller: cut, stalled, or an error frame. */
  broken(error: unknown): void;
  /** The caller stopped reading (a `break`, an abort) before the end: no verdict. */
  abandoned?: (() => void) | undefined;
  /** Hears the events that show the ids of stored objects (a Responses stream's response). */
  stored?: ((event: unknown) => void) | undefined;
}

export interface GuardOptions {
  /** Bound on the wait from the headers to the first output. */
  firstOutputMs: number;
  /** Longest silence after the first output. */
  idleMs: number;
  controller: AbortController;
  signal: AbortSignal;
  endpoint: string;
  /** The request's path and body: they choose the endpoint's rule (streams/rules/table.ts). */
  path: string;
  body: unknown;
  watch: StreamWatch;
  /** Removes credentials from text of the upstream's that goes into our messages. */
  scrub: (text: string) => string;
}

/**
 * For SSE responses. Reads frames inside the attempt until the first one with output, so that a
 * stall, a cut or an error frame before it is an ordinary attempt failure (retried, failed over)
 * and the caller never sees a frame of an abandoned attempt. Then hands out a body that carries
 * the same bytes, ends with `IncompleteStreamError` when the stream stops before its terminal
 * frame, and with `StreamIdleTimeoutError` when it goes silent for `idleMs`.
 */
export async function guardStream(response: Response, o: GuardOptions): Promise<Response> {
  if (!response.body) return response;
  const type = response.headers.get('content-type');
  if (type !== null && !type.toLowerCase().includes('text/event-stream')) {
    response.body.cancel().catch(() => {});
    // A proxy's HTML page with a 200, say: not the stream that was asked for.
    // Scrubbed: a gateway may echo anything into a header, even a credential.
    throw new APIConnectionError({
      message: `Expected an event stream, got a 200 with content-type ${o.scrub(type.split(';')[0]!.slice(0, 60))}.`,
    });
  }
  const reader = response.body.getReader();
  const check = new StreamCheck(o.path, o.body, o.watch.stored);
  const head: Uint8Array[] = [];
  try {
    await bounded(
      async () => {
        while (!check.output && !check.ended) {
          const { done, value } = await reader.read();
          if (done) throw new APIConnectionError({ message: 'The stream ended before its first output.' });
          head.push(value);
          check.push(value);
        }
      },
      o.firstOutputMs,
      o.controller,
      'the first stream output',
    );
  } catch (error) {
    reader.cancel().catch(() => {});
    throw bodyFailure(error, o.signal, 'the stream');
  }
  if (check.failure && !check.output) {
    reader.cancel().catch(() => {});
    const error = errorOfFrame(check.failure.payload, response.headers);
    // The answer as it came (a 200 and its error frame), for `client.fetch` to hand on as sent.
    const { status, statusText, headers } = response;
    keepAnswer(error, new Response(new Blob(head as BlobPart[]), { status, statusText, headers }));
    throw error;
  }
  (response as Guarded)[kStream] = guardedBody(reader, head, check, response.headers, o);
  return Object.setPrototypeOf(response, (GuardedPrototype ??= Object.create(Response.prototype, GUARDED) as Response)) as Response;
}

function guardedBody(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  head: Uint8Array[],
  check: StreamCheck,
  headers: Headers,
  o: GuardOptions,
): ReadableStream<Uint8Array> {
  let reported = false;
  /** Tells the call once: at the terminal frame, or at the failure. */
  const report = (error?: unknown) => {
    if (reported) return;
    reported = true;
    if (error !== undefined) o.watch.broken(error);
    else if (check.failure) o.watch.broken(errorOfFrame(check.failure.payload, headers));
    else o.watch.whole();
  };
  if (check.ended) report();

  // One timer per stream, not one per chunk: it only looks at when the pending read started.
  let readingSince = 0;
  let stalled = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const arm = (ms: number) => {
    timer = setTimeout(onIdle, ms);
    timer.unref?.();
  };
  const onIdle = () => {
    timer = undefined;
    if (readingSince === 0) return; // nobody is reading: the caller is slow, not the upstream
    const quietMs = Date.now() - readingSince;
    if (quietMs < o.idleMs) return arm(o.idleMs - quietMs);
    stalled = true;
    // Cancelling the read closes the connection. Not an abort of the attempt's controller: the
    // SDK takes that for the caller's own abort and ends quietly (openai 7), or its helpers throw
    // APIUserAbortError for an answer that may be whole.
    reader.cancel().catch(() => {});
  };
  const stop = () => {
    readingSince = 0;
    if (timer) clearTimeout(timer);
    timer = undefined;
  };

  return new ReadableStream<Uint8Array>({
    start(stream) {
      for (const chunk of head) stream.enqueue(chunk);
      if (check.final) {
        reader.cancel().catch(() => {});
        stream.close();
      }
    },
    async pull(stream) {
      readingSince = Date.now();
      if (!timer) arm(o.idleMs);
      try {
        const { done, value } = await reader.read();
        readingSince = 0;
        if (done) {
          stop();
          if (check.ended) return stream.close();
          const error = stalled ? new StreamIdleTimeoutError(o.endpoint, o.idleMs) : new IncompleteStreamError(o.endpoint);
          report(error);
          return stream.error(error);
        }
        check.push(value);
        if (check.ended) report();
        stream.enqueue(value);
        if (check.final) {
          // Nothing after `[DONE]` or a terminal event matters: do not wait for the server to close.
          stop();
          reader.cancel().catch(() => {});
          stream.close();
        }
      } catch (error) {
        stop();
        // A stall or a lost connection after the terminal frame cost nothing: the output is whole.
        if (check.ended) return stream.close();
        if (stalled) {
          const idle = new StreamIdleTimeoutError(o.endpoint, o.idleMs);
          report(idle);
          return stream.error(idle);
        }
        // An abort (user signal, `break`) passes through: the SDK's Stream ends quietly on it.
        if (o.signal.aborted) {
          if (!reported) o.watch.abandoned?.();
          reported = true;
          return stream.error(error);
        }
        const cut = new IncompleteStreamError(o.endpoint, error);
        report(cut);
        stream.error(cut);
      }
    },
    cancel(reason) {
      stop();
      if (!reported) o.watch.abandoned?.();
      reported = true;
      return reader.cancel(reason);
    },
  });
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
// the guarded one: cheaper than building a new Response per stream. Made at first use, as the
// replayed one (buffer-body.ts): `Response` is not read at import.
let GuardedPrototype: Response | undefined;
const GUARDED: PropertyDescriptorMap = {
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
};
