import type { ClientOptions } from 'openai';
import { FAILOVER_HEADER } from '../call/failover-override.js';
import { mergeHeaders } from '../call/headers.js';
import { localCoordination } from '../coordination/local.js';
import { SecretSet } from '../observe/redact.js';
import type { Coordination } from '../options/contracts.js';
import type { BreakerConfig, NormalizedAffinity, NormalizedRateLimits, NormalizedResume, NormalizedTimeouts } from '../options/defaults.js';
import {
  isPolicy,
  normalizeAffinity,
  normalizeTelemetry,
  normalizeBreaker,
  normalizeHealth,
  normalizeRateLimits,
  normalizeResume,
  normalizeTimeouts,
  validateCoordination,
  validateFailover,
  validateRetry,
  type NormalizedHealthCheck,
} from '../options/groups.js';
import type { ResilientOptions, TelemetryOptions } from '../options/types.js';
import { checkModels, checkNumber, checkURL, fail } from '../options/validate.js';
import { createFailoverPolicy } from '../routing/failover-policy.js';
import { createRetryPolicy } from '../routing/retry-policy.js';
import type { EndpointSpec } from '../routing/router.js';
import type { FailoverPolicy, RetryPolicy } from '../options/contracts.js';
import { endpointSpecs, primaryClientOptions } from './endpoints.js';

/** The options with every default merged in, checked. */
export interface NormalizedOptions {
  primaryOptions: ClientOptions;
  endpoints: EndpointSpec[];
  retry: RetryPolicy;
  failover: FailoverPolicy;
  healthCheck: NormalizedHealthCheck;
  breaker: BreakerConfig;
  coordination: Coordination;
  timeouts: NormalizedTimeouts;
  rateLimits: NormalizedRateLimits;
  resume: NormalizedResume;
  affinity: NormalizedAffinity;
  telemetry: TelemetryOptions | false;
  /** Every credential the endpoints hold or send, so no text we emit can contain one. */
  secrets: SecretSet;
}

/**
 * The per-call failover override is not an endpoint header: the inner clients would send it
 * upstream with every call. It belongs on a call (`withFailover()`) or on `withOptions()`.
 */
function checkNoFailoverHeader(option: string, headers: unknown): void {
  if (headers && mergeHeaders(undefined, headers)[FAILOVER_HEADER] != null) {
    fail(`${option}["${FAILOVER_HEADER}"]`, 'set per call (withFailover()) or with withOptions(), not on the client', 'a value');
  }
}

/** Merges defaults, reads the environment (zero-config) and validates, once, at construction. */
export function normalizeOptions(input: ResilientOptions | undefined): NormalizedOptions {
  if (input !== undefined && (typeof input !== 'object' || input === null)) fail('options', 'an object', input);
  const options = input ?? {};
  checkURL('baseURL', options.baseURL);
  checkNumber('maxRetries', options.maxRetries, 0, 99);
  checkNumber('timeout', options.timeout, 1);
  validateRetry(options.retry);
  validateFailover(options.failover);
  const healthCheck = normalizeHealth(options.healthCheck);
  const breaker = normalizeBreaker(options.breaker);
  const timeouts = normalizeTimeouts(options.timeouts);
  const rateLimits = normalizeRateLimits(options.rateLimits);
  const resume = normalizeResume(options.resume);
  // `stateful: 'failover'` says every endpoint sees the same stored state: no id has one home.
  const shared = (options.failover as { stateful?: unknown } | undefined)?.stateful === 'failover';
  const telemetry = normalizeTelemetry(options.telemetry);
  const affinity = normalizeAffinity(options.affinity ?? (shared ? false : undefined));
  checkModels('models', options.models);
  checkNoFailoverHeader('defaultHeaders', options.defaultHeaders);
  const coordination = options.coordination ?? localCoordination();
  validateCoordination(coordination);

  const primaryOptions = primaryClientOptions(options);
  const secrets = new SecretSet();
  const endpoints = endpointSpecs(options, primaryOptions, secrets, timeouts.requestMs);
  const retry = isPolicy<RetryPolicy>(options.retry, 'shouldRetry') ? options.retry : createRetryPolicy(options.retry ?? {});
  const failover =
    isPolicy<FailoverPolicy>(options.failover, 'shouldFailover') ? options.failover : createFailoverPolicy(options.failover ?? {});
  return {
    primaryOptions,
    endpoints,
    retry,
    failover,
    healthCheck,
    breaker,
    timeouts,
    rateLimits,
    resume,
    affinity,
    telemetry,
    coordination,
    secrets,
  };
}
