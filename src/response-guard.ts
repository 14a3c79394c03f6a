import { APIConnectionError, APIConnectionTimeoutError, APIUserAbortError } from 'openai';
import { IncompleteStreamError } from './errors.js';

// Markers of a finished SSE stream: chat completions ([DONE], finish_reason), Responses API
// (response.completed/incomplete/failed), assistants (event: done), and error events.
const TERMINAL =
  /data: ?\[DONE\]|"finish_reason": ?"|response\.(?:completed|incomplete|failed)|^event: ?(?:done|error)\b|"type": ?"error"/m;
const MARKER_SPAN = 40;

/** Finds a terminal event in text fed chunk by chunk, across chunk boundaries. */
class TerminalScanner {
  seen = false;
  #tail = '';

  feed(text: string): void {
    if (this.seen) return;
    const window = this.#tail + text;
    if (TERMINAL.test(window)) this.seen = true;
    else this.#tail = window.slice(-MARKER_SPAN);
  }
}

/** Runs `work`, aborting the attempt and failing with a timeout error when `ms` passes first. */
async function bounded<T>(work: Promise<T>, ms: number, controller: AbortController, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => {
        controller.abort();
        reject(new APIConnectionTimeoutError({ message: `Timed out waiting for ${what}.` }));
      },
      Math.max(0, ms),
    );
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function bodyFailure(error: unknown, signal: AbortSignal, what: string): Error {
  if (error instanceof APIConnectionError) return error;
  if (signal.aborted) return new APIUserAbortError();
  return new APIConnectionError({ message: `Connection error while reading ${what}.`, cause: error instanceof Error ? error : undefined });
}

function withURL(response: Response, original: Response): Response {
  // A rebuilt Response has no URL; keep the real one for logs and withResponse() users.
  Object.defineProperty(response, 'url', { value: original.url });
  return response;
}

/**
 * Reads a non-streaming body inside the attempt, so that a cut or stalled body is an attempt
 * failure (retried, failed over) instead of an error after the call returned.
 */
export async function bufferBody(response: Response, ms: number, controller: AbortController, signal: AbortSignal): Promise<Response> {
  try {
    const body = await bounded(response.arrayBuffer(), ms, controller, 'the response body');
    return withURL(new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers }), response);
  } catch (error) {
    throw bodyFailure(error, signal, 'the response body');
  }
}

/** True once `text` holds a complete SSE event with a data line. */
function hasFirstEvent(text: string): boolean {
  const blocks = text.split(/\r?\n\r?\n/);
  blocks.pop(); // the last block is not terminated yet
  return blocks.some((block) => /^data:/m.test(block));
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
  const decoder = new TextDecoder();
  const scanner = new TerminalScanner();
  const head: Uint8Array[] = [];
  let text = '';
  try {
    await bounded(
      (async () => {
        while (!hasFirstEvent(text)) {
          const { done, value } = await reader.read();
          if (done) throw new APIConnectionError({ message: 'The stream ended before its first event.' });
          head.push(value);
          const decoded = decoder.decode(value, { stream: true });
          scanner.feed(decoded);
          text += decoded;
        }
      })(),
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
        scanner.feed(decoder.decode(value, { stream: true }));
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
  return withURL(new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers }), response);
}
