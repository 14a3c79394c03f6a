// Which endpoint served a call, read from its response without listeners.

// A symbol on the response rather than a WeakMap entry: it is set on every call, and a WeakMap
// entry per response costs measurably more (and more again in each garbage collection). Symbols
// stay out of the response's JSON, its keys and its `for…in`.
const kServedBy = Symbol('resilient-openai.served-by');

export function markServed(response: Response, endpoint: string): void {
  (response as { [kServedBy]?: string })[kServedBy] = endpoint;
}

/**
 * The name of the endpoint that served the call whose raw `Response` this is (from
 * `.withResponse()` or `.asResponse()`), e.g. `'fallback'`; undefined for other responses. For a
 * failed call, `getAttemptErrors(error)` names the endpoint of every attempt.
 */
export function getServedBy(response: Response): string | undefined {
  return typeof response === 'object' && response !== null ? (response as { [kServedBy]?: string })[kServedBy] : undefined;
}
