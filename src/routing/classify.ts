// What a failed attempt's error says: its status, whether the provider is at fault, what wait the
// server asked for. Classified by class and status, never by `name` (the SDK's errors say 'Error').
import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from 'openai';

export function statusOf(error: unknown): number | undefined {
  return error instanceof APIError && typeof error.status === 'number' ? error.status : undefined;
}

/** Connection failures and timeouts (APIConnectionTimeoutError extends APIConnectionError). */
export function isConnectionError(error: unknown): boolean {
  return error instanceof APIConnectionError;
}

/**
 * Codes that prove a request never reached a server: the connection was refused, or the name did
 * not resolve. A reset, a timeout or any answer may come after the server acted on the request.
 * (Node and undici use the first ones, Bun `ConnectionRefused`.)
 */
const NEVER_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'EAI_NODATA', 'ConnectionRefused']);

/** The attempt provably never arrived anywhere: safe to send elsewhere, even if it creates state. */
export function neverArrived(error: unknown): boolean {
  if (!isConnectionError(error) || error instanceof APIConnectionTimeoutError) return false;
  let cause: unknown = (error as { cause?: unknown }).cause;
  for (let depth = 0; depth < 5 && typeof cause === 'object' && cause !== null; depth++) {
    const { code, errors } = cause as { code?: unknown; errors?: unknown };
    if (typeof code === 'string' && NEVER_SENT.has(code)) return true;
    // Happy eyeballs: every address refused, reported together.
    if (Array.isArray(errors) && errors.length > 0 && errors.every((e) => NEVER_SENT.has((e as { code?: string })?.code ?? '')))
      return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}

/** A failure that says something about the provider: 5xx, connection errors, timeouts. */
export function isProviderFault(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (isConnectionError(error)) return true;
  const status = statusOf(error);
  return status !== undefined && status >= 500;
}

export function headerOf(error: unknown, name: string): string | null {
  if (!(error instanceof APIError)) return null;
  const headers = error.headers as Headers | Record<string, string> | undefined;
  if (!headers) return null;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
  return (headers as Record<string, string>)[name] ?? null;
}

// Strict forms only (RFC 9110): `Retry-After` is delta-seconds (digits) or an HTTP date; a value
// like `5abc` is neither and is ignored rather than read as 5 s. `retry-after-ms` is a number.
const DELTA_SECONDS = /^\s*\d+\s*$/;
const MILLISECONDS = /^\s*\d+(\.\d+)?\s*$/;
// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), and the obsolete RFC 850 and asctime forms.
const HTTP_DATE =
  /^\s*(?:[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT|[A-Za-z]{6,9}, \d{2}-[A-Za-z]{3}-\d{2} \d{2}:\d{2}:\d{2} GMT|[A-Za-z]{3} [A-Za-z]{3} [ \d]\d \d{2}:\d{2}:\d{2} \d{4})\s*$/;

/** The wait the server asked for, in ms, or undefined. Reads `retry-after-ms`, then `Retry-After`. */
export function serverRequestedDelay(error: unknown, now = Date.now()): number | undefined {
  const ms = headerOf(error, 'retry-after-ms');
  if (ms && MILLISECONDS.test(ms)) return Number.parseFloat(ms);
  const after = headerOf(error, 'retry-after');
  if (!after) return undefined;
  if (DELTA_SECONDS.test(after)) return Number.parseInt(after, 10) * 1000;
  if (!HTTP_DATE.test(after)) return undefined;
  const date = Date.parse(after);
  return Number.isFinite(date) ? Math.max(0, date - now) : undefined;
}

// 429s that waiting never heals: the account is out of credit or disabled, a billing matter.
const QUOTA_CODES = new Set([
  'insufficient_quota',
  'billing_hard_limit_reached',
  'billing_not_active',
  'quota_exceeded',
  'access_terminated',
]);

/** `x-ratelimit-reset-requests`/`-tokens` as OpenAI sends them: `1s`, `6m0s`, `20ms`, `1h2m3.5s`. */
function resetMs(value: string | null): number | undefined {
  if (!value || !/^(?:\d+(?:\.\d+)?(?:h|ms|m|s))+$/.test(value.trim())) return undefined;
  let total = 0;
  for (const [, amount, unit] of value.trim().matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) {
    total +=
      Number(amount) *
      (unit === 'h' ? 3_600_000
      : unit === 'm' ? 60_000
      : unit === 's' ? 1000
      : 1);
  }
  return total;
}

/** What a 429 says beyond "retry": the quota is gone, or the wait asked for is long. */
export type RateLimitVerdict = { kind: 'quota' } | { kind: 'rate-limit'; waitMs: number };

/**
 * The verdict on a 429, or undefined for any other error and for a short wait (retried as any 429).
 * A quota error is known by its `code` or `type`; the wait is the longest of `retry-after-ms`,
 * `Retry-After` and the `x-ratelimit-reset-*` headers.
 */
export function rateLimitVerdict(error: unknown, longWaitMs: number, now = Date.now()): RateLimitVerdict | undefined {
  if (statusOf(error) !== 429) return undefined;
  const { code, type } = error as { code?: unknown; type?: unknown };
  if ((typeof code === 'string' && QUOTA_CODES.has(code)) || (typeof type === 'string' && QUOTA_CODES.has(type))) return { kind: 'quota' };
  const waits = [
    serverRequestedDelay(error, now),
    resetMs(headerOf(error, 'x-ratelimit-reset-requests')),
    resetMs(headerOf(error, 'x-ratelimit-reset-tokens')),
  ].filter((w): w is number => w !== undefined);
  const waitMs = waits.length ? Math.max(...waits) : 0;
  return waitMs > longWaitMs ? { kind: 'rate-limit', waitMs } : undefined;
}

/** When the hold a verdict calls for ends: a quota's cooldown, or the wait the server asked for. */
export function holdEnd(verdict: RateLimitVerdict, quotaCooldownMs: number, now = Date.now()): number {
  return now + (verdict.kind === 'quota' ? quotaCooldownMs : verdict.waitMs);
}
