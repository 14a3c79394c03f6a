// For `client.fetch`: the raw HTTP answer of a failed attempt, so that the caller gets the last
// attempt's status, headers and body exactly, not what the SDK's error kept of them.

/** Put in an attempt's `fetchOptions`; the endpoint's fetch (setup/secrets.ts) calls it with a copy of a non-2xx answer. */
export const kKeepAnswer = Symbol('resilient-openai.keep-answer');
export type KeepAnswer = (response: Response) => void;

// Keyed by the error the SDK threw for that answer: it is what reaches the caller of execute().
const kept = new WeakMap<object, Response>();

export function keepAnswer(error: unknown, response: Response): void {
  if (typeof error === 'object' && error !== null) kept.set(error, response);
}

/** The answer behind a call's final error, when the endpoint's fetch could keep one. */
export function keptAnswer(error: unknown): Response | undefined {
  return typeof error === 'object' && error !== null ? kept.get(error) : undefined;
}
