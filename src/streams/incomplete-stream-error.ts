import { APIConnectionError } from 'openai';

/**
 * A stream ended, or its connection broke, after the response started and before its terminal
 * event (`[DONE]`, a `finish_reason`, `response.completed`): the output you received is
 * incomplete. It is an `APIConnectionError`, so `catch (e) { if (e instanceof OpenAI.APIError) }`
 * still sees it. It is never retried: the caller already has part of the output.
 */
export class IncompleteStreamError extends APIConnectionError {
  /** Always `'IncompleteStreamError'` (unlike the SDK's own errors, which report `'Error'`). */
  override readonly name = 'IncompleteStreamError' as const;
  /** Endpoint that served the stream. */
  readonly endpoint: string;

  constructor(endpoint: string, cause?: unknown) {
    super({
      message: `The stream from ${endpoint} ended before its terminal event ([DONE], finish_reason or response.completed); the output is incomplete`,
      cause: cause instanceof Error ? cause : undefined,
    });
    this.endpoint = endpoint;
  }
}

/** Type guard for {@link IncompleteStreamError}. */
export function isIncompleteStreamError(error: unknown): error is IncompleteStreamError {
  return error instanceof IncompleteStreamError;
}
