import { APIConnectionError } from 'openai';
import { bodyFailure, bounded } from './body-read.js';
import { errorOfFrame } from './frame-errors.js';
import { GuardedSource, type SourceOptions } from './guarded-source.js';
import { StreamCheck } from './stream-check.js';

export type { StreamWatch } from './guarded-source.js';

export interface GuardOptions extends SourceOptions {
  /** Bound on the wait from the headers to the first output. */
  firstOutputMs: number;
  controller: AbortController;
  /** The request's path and body: they choose the endpoint's rule (streams/rules/table.ts). */
  path: string;
  body: unknown;
  /** Removes credentials from text of the upstream's that goes into our messages. */
  scrub: (text: string) => string;
  /** Keeps the answer behind an error for `client.fetch` (kept-answers.ts, whose map is the entry's, not this chunk's). */
  keep: (error: unknown, response: Response) => void;
}

/**
 * For SSE responses. Reads frames inside the attempt until the first one with output, so that a
 * stall, a cut or an error frame before it is an ordinary attempt failure (retried, failed over)
 * and the caller never sees a frame of an abandoned attempt. Then hands out a body that carries
 * the same bytes, ends with `IncompleteStreamError` when the stream stops before its terminal
 * frame, and with `StreamIdleTimeoutError` when it goes silent for `idleMs` (guarded-source.ts).
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
    o.keep(error, new Response(new Blob(head as BlobPart[]), { status, statusText, headers }));
    throw error;
  }
  // A new state each time: a response guarded twice (a client chained through another's
  // `client.fetch`) is read afresh through the outer guard.
  (response as Guarded)[kGuard] = { source: new GuardedSource(reader, head, check, response.headers, o), claimed: false };
  return Object.setPrototypeOf(response, (GuardedPrototype ??= Object.create(Response.prototype, GUARDED) as Response)) as Response;
}

const kGuard = Symbol('resilient-openai.guard');
interface GuardState {
  source: GuardedSource;
  /** Someone reads the source: the SDK (SourceBody) or the stream `body` gave (streamOf). */
  claimed: boolean;
  /** The ReadableStream `body` returned, once asked for. */
  stream?: ReadableStream<Uint8Array>;
}
type Guarded = Response & { [kGuard]: GuardState };

const locked = () => new TypeError('ReadableStream is locked');

/**
 * A ReadableStream over the source, made when someone asks for `body`. It takes the source at
 * its first read or cancel, not when made: the SDK's helpers ask for `body` only to cancel it on
 * a bad request (openai 7's `responses.stream()`), while the SDK reads the source (SourceBody).
 */
function streamOf(state: GuardState): ReadableStream<Uint8Array> {
  const { source } = state;
  let mine = false;
  const take = () => {
    if (!mine && state.claimed) throw locked();
    mine = state.claimed = true;
  };
  return new ReadableStream<Uint8Array>(
    {
      async pull(stream) {
        try {
          take();
          const { done, value } = await source.read();
          if (done) stream.close();
          else stream.enqueue(value);
        } catch (error) {
          stream.error(error);
        }
      },
      cancel(reason) {
        take();
        return source.cancel(reason);
      },
    },
    // Pulls only for a pending read: the idle bound counts only while someone waits.
    { highWaterMark: 0 },
  );
}

/** What a body read by another consumer looks like: locked, as the SDK's reader leaves it. */
function lockedStream(): ReadableStream<Uint8Array> {
  const stream = new ReadableStream<Uint8Array>();
  stream.getReader();
  return stream;
}

/**
 * The guarded body as the SDK's stream parser reads it (openai 6 iterates it, openai 7 takes a
 * reader; this one object is both): straight from the source, without a second ReadableStream,
 * which in Node costs more to make and to pull through than the rest of the guard. It throws, as
 * a locked body does, when the Response's `body` was read first.
 */
class SourceBody implements AsyncIterator<Uint8Array> {
  readonly #source: GuardedSource;

  constructor(private readonly state: GuardState) {
    this.#source = state.source;
  }

  getReader(): this {
    if (this.state.claimed) throw locked();
    this.state.claimed = true;
    return this;
  }

  [Symbol.asyncIterator](): this {
    return this.getReader();
  }

  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    return this.#source.read();
  }

  next(): Promise<IteratorResult<Uint8Array>> {
    return this.#source.read() as Promise<IteratorResult<Uint8Array>>;
  }

  cancel(reason?: unknown): Promise<void> {
    return this.#source.cancel(reason);
  }

  async return(value?: unknown): Promise<IteratorResult<Uint8Array>> {
    await this.#source.cancel();
    return { done: true, value };
  }

  releaseLock(): void {}
}

/** The SDK's view of a guarded stream's body (see SourceBody); undefined for any other response. */
export function sdkBody(response: Response): AsyncIterable<Uint8Array> | undefined {
  return kGuard in response ? new SourceBody((response as Guarded)[kGuard]) : undefined;
}

/** Reads a guarded body through a fresh Response, so every body method sees the guarded bytes. */
const viaGuard = (method: 'text' | 'json' | 'arrayBuffer' | 'blob' | 'bytes') => ({
  value(this: Guarded) {
    return new Response(this.body)[method]();
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
      const state = this[kGuard];
      if (state.stream) return state.stream;
      return (state.stream = state.claimed ? lockedStream() : streamOf(state));
    },
    configurable: true,
  },
  bodyUsed: {
    get(this: Guarded) {
      const state = this[kGuard];
      return state.claimed || state.stream?.locked === true;
    },
    configurable: true,
  },
  text: viaGuard('text'),
  json: viaGuard('json'),
  arrayBuffer: viaGuard('arrayBuffer'),
  blob: viaGuard('blob'),
  bytes: viaGuard('bytes'),
};
