import { APIUserAbortError } from 'openai';
import { DEFAULTS } from '../options/defaults.js';
import type { RetryOptions } from '../options/types.js';
import { withoutUndefined } from '../options/validate.js';
import { headerOf, isConnectionError, serverRequestedDelay, statusOf } from './classify.js';
import type { RetryPolicy } from '../options/contracts.js';

/** The default retry policy: the SDK's rules (statuses, `x-should-retry`, Retry-After), configurable. */
export function createRetryPolicy(options: RetryOptions = {}): RetryPolicy {
  const o = { ...DEFAULTS.retry, ...withoutUndefined(options) };
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
