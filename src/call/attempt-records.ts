/** One failed attempt of a call: where it went and how it failed. */
export interface AttemptFailure {
  /** Name of the endpoint the attempt went to. */
  readonly endpoint: string;
  /** The SDK error the attempt ended with. */
  readonly error: unknown;
  /** The call's id, as in its events (`retry`, `switched`, …) and debug logs. */
  readonly callId: string;
}

// A WeakMap rather than a property: the thrown error stays the SDK's own object, untouched.
const failuresByError = new WeakMap<object, readonly AttemptFailure[]>();

export function recordAttempts(error: unknown, failures: readonly AttemptFailure[]): void {
  if (typeof error === 'object' && error !== null) failuresByError.set(error, failures);
}

/**
 * Every failed attempt of the call that threw `error`, oldest first (the last one is `error`
 * itself). Empty for errors that did not come from a `ResilientOpenAI` call.
 */
export function getAttemptErrors(error: unknown): readonly AttemptFailure[] {
  return (typeof error === 'object' && error !== null && failuresByError.get(error)) || [];
}
