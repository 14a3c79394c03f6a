import { APIError } from 'openai';

const asText = (value: unknown) => (typeof value === 'string' ? value : '');

/** The error object an error frame carries, whatever endpoint sent it. */
function errorObject(payload: unknown): Record<string, unknown> {
  if (typeof payload !== 'object' || payload === null) return { message: typeof payload === 'string' ? payload.slice(0, 300) : undefined };
  const p = payload as Record<string, unknown>;
  // Chat completions: { error: { message, type, code } }; Responses: { type: 'error', code, message };
  // response.failed: { response: { error } }; thread.run.failed: { data: { last_error } }.
  const nested =
    p.error ?? (p.response as { error?: unknown } | undefined)?.error ?? (p.data as { last_error?: unknown } | undefined)?.last_error;
  return typeof nested === 'object' && nested !== null ? (nested as Record<string, unknown>) : p;
}

// What the error names, by its `type` or `code`, as the HTTP status that means the same; anything
// unnamed is taken as the provider's fault (as a 5xx would be), so it fails over.
const STATUS_BY_NAME: [RegExp, number][] = [
  [/rate_limit|quota|too_many|tokens_exceeded/i, 429],
  [/invalid_request|invalid_prompt|bad_request|context_length|unsupported|invalid_/i, 400],
  [/auth|api_key/i, 401],
  [/permission|forbidden/i, 403],
  [/not_found/i, 404],
  [/conflict/i, 409],
];

/**
 * The SDK error an error frame before any output stands for, so that the policies classify it as
 * the failure it names: `server_error`, `overloaded`, an unknown name, or a frame that is not
 * JSON become a 503 (fail over), `rate_limit_exceeded` a 429, `invalid_request_error` a 400.
 */
export function errorOfFrame(payload: unknown, headers: Headers): APIError {
  const error = errorObject(payload);
  const name = `${asText(error.type)} ${asText(error.code)}`;
  const status = STATUS_BY_NAME.find(([pattern]) => pattern.test(name))?.[1] ?? 503;
  const message = typeof error.message === 'string' ? error.message : 'The stream reported an error before its first output.';
  return APIError.generate(status, { error: { ...error, message } }, undefined, headers);
}
