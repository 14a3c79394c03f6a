import { APIConnectionError } from 'openai';
import { bodyFailure, bounded, concat } from './body-read.js';
import { IncompleteStreamError } from './incomplete-stream-error.js';
import { hasFirstEvent, TerminalScanner } from './sse-terminal.js';

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
