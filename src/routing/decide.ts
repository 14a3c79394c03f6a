import { APIError, APIUserAbortError } from 'openai';
import type { AttemptContext, FailoverPolicy, RetryPolicy } from '../options/contracts.js';
import type { RateLimitVerdict } from './classify.js';

/** The next step of a call after a failed attempt. */
export type Decision = { action: 'fail' } | { action: 'failover' } | { action: 'retry'; delayMs: number };

/**
 * What to do after a failed attempt. Pure: no I/O, no state. Aborts and one-shot bodies always
 * fail; failover needs somewhere to go; a quota or a long rate-limit wait fails over at once (it
 * would never heal, or heal too late, on this endpoint); otherwise the retry policy decides.
 */
export function decide(
  context: AttemptContext,
  policies: { retry: RetryPolicy; failover: FailoverPolicy },
  situation: { canFailover: boolean; bodyIsOneShot: boolean; verdict?: RateLimitVerdict | undefined },
): Decision {
  const { error } = context;
  if (error instanceof APIUserAbortError || situation.bodyIsOneShot) return { action: 'fail' };
  if (!(error instanceof APIError)) return { action: 'fail' };
  if (situation.canFailover && (situation.verdict || policies.failover.shouldFailover(context))) return { action: 'failover' };
  if (policies.retry.shouldRetry(context)) {
    return { action: 'retry', delayMs: Math.max(0, policies.retry.delayMs(context)) };
  }
  return { action: 'fail' };
}
