// What both body readers need: a bound on a read, and SDK errors for a body that fails.
import { APIConnectionError, APIConnectionTimeoutError, APIUserAbortError } from 'openai';

/**
 * Runs `work`, aborting the attempt when `ms` passes first (the abort makes `work` reject), and
 * reports that as a timeout. One timer and no extra promise: this runs on every call.
 */
export async function bounded<T>(work: () => Promise<T>, ms: number, controller: AbortController, what: string): Promise<T> {
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

export function bodyFailure(error: unknown, signal: AbortSignal | undefined, what: string): Error {
  if (error instanceof APIConnectionError) return error;
  if (signal?.aborted) return new APIUserAbortError();
  return new APIConnectionError({ message: `Connection error while reading ${what}.`, cause: error instanceof Error ? error : undefined });
}

/** The bytes of `chunks` as one array (the one chunk itself when there is only one). */
export function concat(chunks: Uint8Array[], size: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  return bytes;
}
