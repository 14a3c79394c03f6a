// Which endpoint served a call, read from its response without listeners.

// A WeakMap rather than a property or a header: the response stays the SDK's own object.
const servedBy = new WeakMap<object, string>();

export function markServed(response: Response, endpoint: string): void {
  servedBy.set(response, endpoint);
}

/**
 * The name of the endpoint that served the call whose raw `Response` this is (from
 * `.withResponse()` or `.asResponse()`), e.g. `'fallback'`; undefined for other responses. For a
 * failed call, `getAttemptErrors(error)` names the endpoint of every attempt.
 */
export function getServedBy(response: Response): string | undefined {
  return typeof response === 'object' && response !== null ? servedBy.get(response) : undefined;
}
