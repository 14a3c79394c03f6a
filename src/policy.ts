import { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { isStatefulRequest, type RequestInfo } from './stateful.js';
import { withoutUndefined } from './validate.js';

/** What the client knows about a failed attempt when it asks a policy what to do next. */
export interface AttemptContext {
  /** The SDK error of the failed attempt (`APIError` subclass, `APIConnectionError`, ...). */
  readonly error: unknown;
  /** Number of the attempt that failed (1-based). */
  readonly attempt: number;
  /** Name of the endpoint the attempt went to. */
  readonly endpoint: string;
}

/** Decides whether a failed attempt is retried on the same endpoint, and after how long. */
export interface RetryPolicy {
  /** Attempts per call including the first; `undefined` defers to `maxRetries + 1`. */
  readonly maxAttempts?: number | undefined;
  /** Whether the failed attempt is retried on the same endpoint. */
  shouldRetry(context: AttemptContext): boolean;
  /** Milliseconds to wait before the next attempt. */
  delayMs(context: AttemptContext): number;
}

/** Decides whether a failed attempt switches traffic to the next endpoint (immediately, no sleep). */
export interface FailoverPolicy {
  /** Whether the failed attempt moves the call to the next endpoint at once. */
  shouldFailover(context: AttemptContext): boolean;
  /**
   * Whether a call must stay on the endpoint it started on (it addresses server-side state).
   * When absent, calls on files, batches, threads, vector stores, … stay; see `isStatefulRequest`.
   */
  staysOnEndpoint?(request: RequestInfo): boolean;
}

/** Options of the default retry policy ({@link createRetryPolicy}). */
export interface RetryOptions {
  /** Attempts per call, including the first. Overrides the client's `maxRetries`; a per-request `maxRetries` still wins. @default maxRetries + 1 (3) */
  maxAttempts?: number | undefined;
  /** First backoff delay. @default 500 */
  initialDelayMs?: number | undefined;
  /** Longest backoff delay. @default 8000 */
  maxDelayMs?: number | undefined;
  /** Growth of the delay per retry. @default 2 */
  factor?: number | undefined;
  /** Share of each delay removed at random, 0 to 1. @default 0.25 */
  jitter?: number | undefined;
  /** Longest `Retry-After` / `retry-after-ms` honoured; a longer one falls back to backoff. @default 60000 */
  maxRetryAfterMs?: number | undefined;
  /** HTTP statuses retried on the same endpoint. @default 408, 409, 429 and every 5xx (as the SDK) */
  statuses?: readonly number[] | undefined;
  /** Retry connection errors and timeouts when they do not fail over. @default true */
  connectionErrors?: boolean | undefined;
}

/** Options of the default failover policy ({@link createFailoverPolicy}). */
export interface FailoverOptions {
  /** HTTP statuses that switch to the next endpoint at once. @default [502, 503, 504] */
  statuses?: readonly number[] | undefined;
  /** Switch on refused or reset connections, DNS failures and timeouts. @default true */
  connectionErrors?: boolean | undefined;
  /**
   * Calls that address server-side state (files, batches, threads, `previous_response_id`, …):
   * `'stay'` retries them on their own endpoint only, `'failover'` treats them like any call,
   * a function decides per call (return `true` to stay). @default 'stay'
   */
  stateful?: 'stay' | 'failover' | ((request: RequestInfo) => boolean) | undefined;
}

const retryDefaults = {
  initialDelayMs: 500,
  maxDelayMs: 8000,
  factor: 2,
  jitter: 0.25,
  maxRetryAfterMs: 60_000,
  connectionErrors: true,
} as const;

const failoverDefaults = { statuses: [502, 503, 504], connectionErrors: true } as const;

export function statusOf(error: unknown): number | undefined {
  return error instanceof APIError && typeof error.status === 'number' ? error.status : undefined;
}

/** Connection failures and timeouts (APIConnectionTimeoutError extends APIConnectionError). */
function isConnectionError(error: unknown): boolean {
  return error instanceof APIConnectionError;
}

/** A failure that says something about the provider: 5xx, connection errors, timeouts. */
export function isProviderFault(error: unknown): boolean {
  if (error instanceof APIUserAbortError) return false;
  if (isConnectionError(error)) return true;
  const status = statusOf(error);
  return status !== undefined && status >= 500;
}

function headerOf(error: unknown, name: string): string | null {
  if (!(error instanceof APIError)) return null;
  const headers = error.headers as Headers | Record<string, string> | undefined;
  if (!headers) return null;
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name);
  return (headers as Record<string, string>)[name] ?? null;
}

/** The wait the server asked for, in ms, or undefined. Reads `retry-after-ms`, then `Retry-After`. */
function serverRequestedDelay(error: unknown, now = Date.now()): number | undefined {
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

/** The default retry policy: the SDK's rules (statuses, `x-should-retry`, Retry-After), configurable. */
export function createRetryPolicy(options: RetryOptions = {}): RetryPolicy {
  const o = { ...retryDefaults, ...withoutUndefined(options) };
  const statuses = options.statuses ? new Set(options.statuses) : undefined;
  return {
    maxAttempts: options.maxAttempts,
    shouldRetry({ error }) {
      if (error instanceof APIUserAbortError) return false;
      if (isConnectionError(error)) return o.connectionErrors;
      const status = statusOf(error);
      if (status === undefined) return false;
      const hint = headerOf(error, 'x-should-retry');
      if (hint === 'true') return true;
      if (hint === 'false') return false;
      if (statuses) return statuses.has(status);
      return status === 408 || status === 409 || status === 429 || status >= 500;
    },
    delayMs({ error, attempt }) {
      const requested = serverRequestedDelay(error);
      if (requested !== undefined && requested <= o.maxRetryAfterMs) return requested;
      const base = Math.min(o.initialDelayMs * o.factor ** (attempt - 1), o.maxDelayMs);
      return Math.round(base * (1 - Math.random() * o.jitter));
    },
  };
}

/** The default failover policy: 502/503/504 and connection failures switch endpoints. */
export function createFailoverPolicy(options: FailoverOptions = {}): FailoverPolicy {
  const statuses = new Set(options.statuses ?? failoverDefaults.statuses);
  const connectionErrors = options.connectionErrors ?? failoverDefaults.connectionErrors;
  const stateful = options.stateful ?? 'stay';
  return {
    shouldFailover({ error }) {
      if (error instanceof APIUserAbortError) return false;
      if (isConnectionError(error)) return connectionErrors;
      const status = statusOf(error);
      return status !== undefined && statuses.has(status);
    },
    staysOnEndpoint(request) {
      if (typeof stateful === 'function') return stateful(request);
      return stateful === 'stay' && isStatefulRequest(request);
    },
  };
}

export type Decision = { action: 'fail' } | { action: 'failover' } | { action: 'retry'; delayMs: number };

/**
 * What to do after a failed attempt. Pure: no I/O, no state. Aborts and one-shot bodies always
 * fail; failover needs somewhere to go; otherwise the retry policy decides.
 */
export function decide(
  context: AttemptContext,
  policies: { retry: RetryPolicy; failover: FailoverPolicy },
  situation: { canFailover: boolean; bodyIsOneShot: boolean },
): Decision {
  const { error } = context;
  if (error instanceof APIUserAbortError || situation.bodyIsOneShot) return { action: 'fail' };
  if (!(error instanceof APIError)) return { action: 'fail' };
  if (situation.canFailover && policies.failover.shouldFailover(context)) return { action: 'failover' };
  if (policies.retry.shouldRetry(context)) {
    return { action: 'retry', delayMs: Math.max(0, policies.retry.delayMs(context)) };
  }
  return { action: 'fail' };
}
