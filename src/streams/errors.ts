import { APIConnectionError } from 'openai';

/**
 * A stream ended, or its connection broke, after the response started and before its terminal
 * frame (`[DONE]`, a `finish_reason` on every choice, `response.completed`, …): the output you
 * received is incomplete. It is an `APIConnectionError`, so `catch (e) { if (e instanceof
 * OpenAI.APIError) }` still sees it. It is never retried: the caller already has part of the output.
 */
export class IncompleteStreamError extends APIConnectionError {
  /** `'IncompleteStreamError'`, or `'StreamIdleTimeoutError'` for that subclass (the SDK's own errors report `'Error'`). */
  override readonly name: 'IncompleteStreamError' | 'StreamIdleTimeoutError' = 'IncompleteStreamError';
  /** Endpoint that served the stream. */
  readonly endpoint: string;
  /** How many times the stream had been continued before it broke for good (background Responses streams). */
  resumes = 0;

  constructor(endpoint: string, cause?: unknown, message?: string) {
    super({
      message:
        message ??
        `The stream from ${endpoint} ended before its terminal event ([DONE], finish_reason or response.completed); the output is incomplete`,
      cause: cause instanceof Error ? cause : undefined,
    });
    this.endpoint = endpoint;
  }
}

/**
 * A stream went silent for longer than `timeouts.streamIdleMs` after its first output: the
 * connection was closed, and the output you received is incomplete.
 */
export class StreamIdleTimeoutError extends IncompleteStreamError {
  override readonly name = 'StreamIdleTimeoutError' as const;
  /** The silence that ended it, in milliseconds. */
  readonly idleMs: number;

  constructor(endpoint: string, idleMs: number) {
    super(endpoint, undefined, `The stream from ${endpoint} sent nothing for ${idleMs}ms after its first output; the output is incomplete`);
    this.idleMs = idleMs;
  }
}

/** Type guard for {@link IncompleteStreamError} (and {@link StreamIdleTimeoutError}). */
export function isIncompleteStreamError(error: unknown): error is IncompleteStreamError {
  return error instanceof IncompleteStreamError;
}
