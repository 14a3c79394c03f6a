// What a failed attempt's error says: its status, whether the provider is at fault, what wait the
// server asked for. Classified by class and status, never by `name` (the SDK's errors say 'Error').
import { APIConnectionError, APIError, APIUserAbortError } from 'openai';

export function statusOf(error: unknown): number | undefined {
  return error instanceof APIError && typeof error.status === 'number' ? error.status : undefined;
}

/** Connection failures and timeouts (APIConnectionTimeoutError extends APIConnectionError). */
export function isConnectionError(error: unknown): boolean {
  return error instanceof APIConnectionError;
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

/** The wait the server asked for, in ms, or undefined. Reads `retry-after-ms`, then `Retry-After`. */
export function serverRequestedDelay(error: unknown, now = Date.now()): number | undefined {
  const ms = headerOf(error, 'retry-after-ms');
  if (ms) {
    const value = Number.parseFloat(ms);
    if (Number.isFinite(value) && value >= 0) return value;
  }
  const after = headerOf(error, 'retry-after');
  if (after) {
    const seconds = Number.parseFloat(after);
    if (Number.isFinite(seconds)) return seconds >= 0 ? seconds * 1000 : undefined;
    const date = Date.parse(after);
    if (Number.isFinite(date)) return Math.max(0, date - now);
  }
  return undefined;
}
