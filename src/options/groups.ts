// One checker per option group: each validates what the user gave (naming the option and the
// value) and merges the group's defaults, once, at construction.
import type { OpenAI } from 'openai';
import type { Coordination } from './contracts.js';
import type { FailoverPolicy, RetryPolicy } from './contracts.js';
import {
  DEFAULTS,
  type BreakerConfig,
  type NormalizedAffinity,
  type NormalizedRateLimits,
  type NormalizedResume,
  type NormalizedTimeouts,
} from './defaults.js';
import type {
  TelemetryOptions,
  AffinityOptions,
  BreakerOptions,
  FailoverOptions,
  HealthCheckOptions,
  RateLimitOptions,
  ResumeOptions,
  RetryOptions,
  TimeoutOptions,
} from './types.js';
import { checkNumber, checkStatuses, fail, withoutUndefined } from './validate.js';

const MAX_TIMER = 2 ** 31 - 1;

/** The health check with every default filled in. */
export interface NormalizedHealthCheck {
  intervalMs: number;
  timeoutMs: number;
  probe: NonNullable<HealthCheckOptions['probe']>;
  /** Whether the timer runs (`healthCheck: false` keeps only `checkPrimary()`). */
  timer: boolean;
}

export function isPolicy<T>(value: unknown, method: string): value is T {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[method] === 'function';
}

export function validateRetry(value: unknown): void {
  if (value === undefined) return;
  if (isPolicy<RetryPolicy>(value, 'shouldRetry')) {
    const { delayMs, maxAttempts } = value as { delayMs?: unknown; maxAttempts?: unknown };
    if (typeof delayMs !== 'function') fail('retry.delayMs', 'a function', delayMs);
    checkNumber('retry.maxAttempts', maxAttempts, 1, 100);
    return;
  }
  if (typeof value !== 'object' || value === null) fail('retry', 'an options object or a RetryPolicy', value);
  const r = value as RetryOptions;
  checkNumber('retry.maxAttempts', r.maxAttempts, 1, 100);
  checkNumber('retry.initialDelayMs', r.initialDelayMs, 0);
  checkNumber('retry.maxDelayMs', r.maxDelayMs, 0);
  checkNumber('retry.factor', r.factor, 1, 100, false);
  checkNumber('retry.jitter', r.jitter, 0, 1, false);
  checkNumber('retry.maxRetryAfterMs', r.maxRetryAfterMs, 0);
  if (r.statuses !== undefined) checkStatuses('retry.statuses', r.statuses);
}

export function validateFailover(value: unknown): void {
  if (value === undefined || isPolicy<FailoverPolicy>(value, 'shouldFailover')) return;
  if (typeof value !== 'object' || value === null) fail('failover', 'an options object or a FailoverPolicy', value);
  const f = value as FailoverOptions;
  if (f.statuses !== undefined) checkStatuses('failover.statuses', f.statuses);
  if (f.connectionErrors !== undefined && typeof f.connectionErrors !== 'boolean')
    fail('failover.connectionErrors', 'a boolean', f.connectionErrors);
  if (f.stateful !== undefined && f.stateful !== 'stay' && f.stateful !== 'failover' && typeof f.stateful !== 'function') {
    fail('failover.stateful', "'stay', 'failover' or a function", f.stateful);
  }
}

export function normalizeBreaker(value: unknown): BreakerConfig {
  if (value !== undefined && (typeof value !== 'object' || value === null)) fail('breaker', 'an options object', value);
  const b = (value ?? {}) as BreakerOptions;
  checkNumber('breaker.failureThreshold', b.failureThreshold, 1, 1000);
  checkNumber('breaker.failureRate', b.failureRate, 0.01, 1, false);
  checkNumber('breaker.minimumCalls', b.minimumCalls, 1, 1_000_000);
  checkNumber('breaker.windowMs', b.windowMs, 1000, MAX_TIMER);
  checkNumber('breaker.cooldownMs', b.cooldownMs, 0, MAX_TIMER);
  checkNumber('breaker.halfOpenMaxCalls', b.halfOpenMaxCalls, 1, 1000);
  checkNumber('breaker.successThreshold', b.successThreshold, 1, 1000);
  return { ...DEFAULTS.breaker, ...withoutUndefined(b) };
}

export function normalizeTimeouts(value: unknown): NormalizedTimeouts {
  if (value !== undefined && (typeof value !== 'object' || value === null)) fail('timeouts', 'an options object', value);
  const t = (value ?? {}) as TimeoutOptions;
  checkNumber('timeouts.requestMs', t.requestMs, 1, MAX_TIMER);
  checkNumber('timeouts.streamHeadersMs', t.streamHeadersMs, 1, MAX_TIMER);
  checkNumber('timeouts.streamIdleMs', t.streamIdleMs, 1, MAX_TIMER);
  checkNumber('timeouts.deadlineMs', t.deadlineMs, 1, MAX_TIMER);
  return { ...DEFAULTS.timeouts, ...withoutUndefined(t) };
}

export function normalizeResume(value: unknown): NormalizedResume {
  if (value === false) return false;
  if (value !== undefined && (typeof value !== 'object' || value === null)) fail('resume', 'an options object or false', value);
  const r = (value ?? {}) as ResumeOptions;
  checkNumber('resume.attempts', r.attempts, 1, 100);
  checkNumber('resume.delayMs', r.delayMs, 0, MAX_TIMER);
  return { ...DEFAULTS.resume, ...withoutUndefined(r) };
}

export function normalizeRateLimits(value: unknown): NormalizedRateLimits {
  if (value !== undefined && (typeof value !== 'object' || value === null)) fail('rateLimits', 'an options object', value);
  const r = (value ?? {}) as RateLimitOptions;
  checkNumber('rateLimits.longWaitMs', r.longWaitMs, 0, MAX_TIMER);
  checkNumber('rateLimits.quotaCooldownMs', r.quotaCooldownMs, 1000, MAX_TIMER);
  return { ...DEFAULTS.rateLimits, ...withoutUndefined(r) };
}

export function normalizeTelemetry(value: unknown): TelemetryOptions | false {
  if (value === false) return false;
  if (value !== undefined && (typeof value !== 'object' || value === null)) fail('telemetry', 'an options object or false', value);
  const t = (value ?? {}) as TelemetryOptions;
  if (t.tracerProvider !== undefined && !isPolicy(t.tracerProvider, 'getTracer'))
    fail('telemetry.tracerProvider', 'a TracerProvider (with getTracer)', t.tracerProvider);
  if (t.meterProvider !== undefined && !isPolicy(t.meterProvider, 'getMeter'))
    fail('telemetry.meterProvider', 'a MeterProvider (with getMeter)', t.meterProvider);
  return t;
}

export function normalizeAffinity(value: unknown): NormalizedAffinity {
  if (value === false) return false;
  if (value !== undefined && (typeof value !== 'object' || value === null)) fail('affinity', 'an options object or false', value);
  const a = (value ?? {}) as AffinityOptions;
  checkNumber('affinity.maxIds', a.maxIds, 1, 10_000_000);
  checkNumber('affinity.ttlMs', a.ttlMs, 1000, 365 * 86_400_000);
  return { ...DEFAULTS.affinity, ...withoutUndefined(a) };
}

/** The default probe lists models (`GET /models`): it costs no tokens. */
async function listModels(client: OpenAI, signal: AbortSignal): Promise<void> {
  await client.models.list({ maxRetries: 0, signal });
}

export function normalizeHealth(value: unknown): NormalizedHealthCheck {
  if (value === false) return { ...DEFAULTS.healthCheck, probe: listModels, timer: false };
  if (value !== undefined && (typeof value !== 'object' || value === null)) fail('healthCheck', 'an options object or false', value);
  const h = (value ?? {}) as HealthCheckOptions;
  checkNumber('healthCheck.intervalMs', h.intervalMs, 100, MAX_TIMER);
  checkNumber('healthCheck.timeoutMs', h.timeoutMs, 1, MAX_TIMER);
  if (h.probe !== undefined && typeof h.probe !== 'function') fail('healthCheck.probe', 'a function', h.probe);
  return {
    intervalMs: h.intervalMs ?? DEFAULTS.healthCheck.intervalMs,
    timeoutMs: h.timeoutMs ?? DEFAULTS.healthCheck.timeoutMs,
    probe: h.probe ?? listModels,
    timer: true,
  };
}

export function validateCoordination(coordination: Coordination): void {
  for (const method of ['start', 'publish', 'shouldProbe', 'status', 'close'] as const) {
    const value = (coordination as unknown as Record<string, unknown>)[method];
    if (typeof value !== 'function') fail(`coordination.${method}`, 'a function (pass what createRedisCoordination() returns)', value);
  }
  for (const method of ['rememberHomes', 'findHome'] as const) {
    const value = (coordination as unknown as Record<string, unknown>)[method];
    if (value !== undefined && typeof value !== 'function') fail(`coordination.${method}`, 'a function or absent', value);
  }
}
