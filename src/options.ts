import { OpenAI, type ClientOptions } from 'openai';
import { randomUUID } from 'node:crypto';
import { breakerDefaults, type BreakerConfig, type BreakerOptions } from './breaker.js';
import { localCoordination, type Coordination } from './coordination.js';
import { checkModels, checkNumber, checkStatuses, checkURL, fail, withoutUndefined } from './validate.js';
import {
  createFailoverPolicy,
  createRetryPolicy,
  type FailoverOptions,
  type FailoverPolicy,
  type RetryOptions,
  type RetryPolicy,
} from './policy.js';

/** Default base URL of an options fallback: the official API. */
const OFFICIAL_BASE_URL = 'https://api.openai.com/v1';

/**
 * Model names as one endpoint knows them: a map from the name the caller uses, or a function.
 * Names the map does not list pass unchanged.
 */
export type ModelMap = Readonly<Record<string, string>> | ((model: string) => string);

/** A fallback given as client options. */
export interface FallbackOptions extends ClientOptions {
  /** Name in events and status. @default 'fallback', 'fallback-2', … */
  name?: string | undefined;
  /** Model names as this endpoint knows them. */
  models?: ModelMap | undefined;
}

/** A ready client with a name of your choosing. */
export interface NamedClient {
  /** Name in events and status. */
  name: string;
  /** A ready `OpenAI` or `AzureOpenAI` instance, used as it is. */
  client: OpenAI;
  /** Model names as this endpoint knows them. */
  models?: ModelMap | undefined;
}

/** A fallback: client options, a ready `OpenAI`/`AzureOpenAI` instance, or a named instance. */
export type FallbackInput = FallbackOptions | OpenAI | NamedClient;

/** Bounds that turn hung or slow upstreams into prompt failovers. */
export interface TimeoutOptions {
  /**
   * Bound on a non-streaming attempt, headers and body, when neither the request nor the
   * endpoint sets `timeout`. Non-streaming answers arrive only when the whole generation is done,
   * so this must exceed your longest generation. @default 120000
   */
  requestMs?: number | undefined;
  /** Bound on the time to response headers of a streaming attempt; servers send them at once. @default 20000 */
  streamHeadersMs?: number | undefined;
  /** Bound on a whole call, all attempts and waits included, until its response (or stream) is returned. @default 300000 */
  deadlineMs?: number | undefined;
}

/** Options of the primary's health timer. */
export interface HealthCheckOptions {
  /** Time between two probes of the primary. @default 300000 (5 minutes) */
  intervalMs?: number | undefined;
  /** A probe slower than this counts as failed. @default 10000 */
  timeoutMs?: number | undefined;
  /**
   * Custom probe. Resolving (to anything but `false`) means healthy; throwing or `false` means
   * unhealthy. The default lists models (`GET /models`), which costs no tokens.
   */
  probe?: ((client: OpenAI, signal: AbortSignal) => unknown) | undefined;
}

/** Options of `new ResilientOpenAI()`: OpenAI's own `ClientOptions` (for the primary) plus these. */
export interface ResilientOptions extends ClientOptions {
  /** Name of the primary in events and status. @default 'primary' */
  name?: string | undefined;
  /** Where traffic goes when the primary fails; tried in order. @default official API, key from `OPENAI_API_KEY` */
  fallback?: FallbackInput | readonly FallbackInput[] | undefined;
  /** Options of the default retry policy, or a policy of your own. */
  retry?: RetryOptions | RetryPolicy | undefined;
  /** Options of the default failover policy, or a policy of your own. */
  failover?: FailoverOptions | FailoverPolicy | undefined;
  /** Health timer of the primary; `false` turns the timer off (`checkPrimary()` still works). */
  healthCheck?: HealthCheckOptions | false | undefined;
  /** Per-endpoint circuit breaker. */
  breaker?: BreakerOptions | undefined;
  /** Bounds that turn hung upstreams into prompt failovers. */
  timeouts?: TimeoutOptions | undefined;
  /** Model names as the primary knows them. */
  models?: ModelMap | undefined;
  /**
   * Shares breaker state and the health probe between processes, e.g.
   * `createRedisCoordination({ client })`. @default local: every process decides alone
   */
  coordination?: Coordination | undefined;
}

export interface EndpointSpec {
  name: string;
  client: OpenAI;
  models?: ModelMap | undefined;
  timeout?: number | undefined;
}

export interface NormalizedOptions {
  primaryOptions: ClientOptions;
  endpoints: EndpointSpec[];
  retry: RetryPolicy;
  failover: FailoverPolicy;
  healthCheck: { intervalMs: number; timeoutMs: number; probe: NonNullable<HealthCheckOptions['probe']> } | null;
  healthTimer: boolean;
  breaker: BreakerConfig;
  coordination: Coordination;
  timeouts: Required<{ [K in keyof TimeoutOptions]: number }>;
  /** Every credential we were given, so no text we emit can contain one. */
  secrets: unknown[];
}

const healthDefaults = { intervalMs: 300_000, timeoutMs: 10_000 } as const;
const timeoutDefaults = { requestMs: 120_000, streamHeadersMs: 20_000, deadlineMs: 300_000 } as const;

const OWN_KEYS = ['name', 'fallback', 'retry', 'failover', 'healthCheck', 'breaker', 'timeouts', 'models', 'coordination'] as const;
const MAX_TIMER = 2 ** 31 - 1;
/** The SDK's default `timeout`: an instance with it has no timeout of its own. */
const SDK_DEFAULT_TIMEOUT = 600_000;

function env(name: string): string | undefined {
  const value = typeof process !== 'undefined' ? process.env[name]?.trim() : undefined;
  return value ? value : undefined;
}

function isPolicy<T>(value: unknown, method: string): value is T {
  return typeof value === 'object' && value !== null && typeof (value as Record<string, unknown>)[method] === 'function';
}

function validateRetry(value: unknown): void {
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

function validateFailover(value: unknown): void {
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

function normalizeBreaker(value: unknown): BreakerConfig {
  if (value !== undefined && (typeof value !== 'object' || value === null)) fail('breaker', 'an options object', value);
  const b = (value ?? {}) as BreakerOptions;
  checkNumber('breaker.failureThreshold', b.failureThreshold, 1, 1000);
  checkNumber('breaker.failureRate', b.failureRate, 0.01, 1, false);
  checkNumber('breaker.minimumCalls', b.minimumCalls, 1, 1_000_000);
  checkNumber('breaker.windowMs', b.windowMs, 1000, MAX_TIMER);
  checkNumber('breaker.cooldownMs', b.cooldownMs, 0, MAX_TIMER);
  checkNumber('breaker.halfOpenMaxCalls', b.halfOpenMaxCalls, 1, 1000);
  checkNumber('breaker.successThreshold', b.successThreshold, 1, 1000);
  return { ...breakerDefaults, ...withoutUndefined(b) };
}

function normalizeTimeouts(value: unknown): NormalizedOptions['timeouts'] {
  if (value !== undefined && (typeof value !== 'object' || value === null)) fail('timeouts', 'an options object', value);
  const t = (value ?? {}) as TimeoutOptions;
  checkNumber('timeouts.requestMs', t.requestMs, 1, MAX_TIMER);
  checkNumber('timeouts.streamHeadersMs', t.streamHeadersMs, 1, MAX_TIMER);
  checkNumber('timeouts.deadlineMs', t.deadlineMs, 1, MAX_TIMER);
  return { ...timeoutDefaults, ...withoutUndefined(t) };
}

function normalizeHealth(value: unknown): { cfg: NormalizedOptions['healthCheck']; timer: boolean } {
  const defaultProbe = async (client: OpenAI, signal: AbortSignal) => {
    await client.models.list({ maxRetries: 0, signal });
  };
  if (value === false) return { cfg: { ...healthDefaults, probe: defaultProbe }, timer: false };
  if (value !== undefined && (typeof value !== 'object' || value === null)) fail('healthCheck', 'an options object or false', value);
  const h = (value ?? {}) as HealthCheckOptions;
  checkNumber('healthCheck.intervalMs', h.intervalMs, 100, MAX_TIMER);
  checkNumber('healthCheck.timeoutMs', h.timeoutMs, 1, MAX_TIMER);
  if (h.probe !== undefined && typeof h.probe !== 'function') fail('healthCheck.probe', 'a function', h.probe);
  return {
    cfg: {
      intervalMs: h.intervalMs ?? healthDefaults.intervalMs,
      timeoutMs: h.timeoutMs ?? healthDefaults.timeoutMs,
      probe: h.probe ?? defaultProbe,
    },
    timer: true,
  };
}

function isClient(value: unknown): value is OpenAI {
  return value instanceof OpenAI;
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
  const health = normalizeHealth(options.healthCheck);
  const breaker = normalizeBreaker(options.breaker);
  const timeouts = normalizeTimeouts(options.timeouts);
  checkModels('models', options.models);
  const coordination = options.coordination ?? localCoordination(randomUUID().slice(0, 8));
  for (const method of ['start', 'publish', 'shouldProbe', 'status', 'close'] as const) {
    if (typeof (coordination as unknown as Record<string, unknown>)[method] !== 'function') {
      fail(
        `coordination.${method}`,
        'a function (pass what createRedisCoordination() returns)',
        (coordination as unknown as Record<string, unknown>)[method],
      );
    }
  }

  const primaryOptions: ClientOptions = { ...options };
  for (const key of OWN_KEYS) delete (primaryOptions as Record<string, unknown>)[key];
  // Zero-config: the seed's variables describe the primary (a proxy); OpenAI's own are the fallback.
  let proxyFromEnv = false;
  if (primaryOptions.baseURL === undefined && !primaryOptions.provider) {
    const fromEnv = env('OPENAI_BASE_URL_PRO');
    if (fromEnv) {
      checkURL('OPENAI_BASE_URL_PRO', fromEnv);
      primaryOptions.baseURL = fromEnv;
      proxyFromEnv = true;
    }
  }
  const usesOtherAuth = Boolean(
    primaryOptions.provider || primaryOptions.adminAPIKey || (primaryOptions as { workloadIdentity?: unknown }).workloadIdentity,
  );
  if (primaryOptions.apiKey === undefined && !usesOtherAuth) {
    // The official key never goes to a proxy that only the environment named.
    primaryOptions.apiKey = env('OPENAI_API_KEY_PRO') ?? (proxyFromEnv ? undefined : env('OPENAI_API_KEY'));
    if (!primaryOptions.apiKey) {
      throw new TypeError(
        proxyFromEnv ?
          'resilient-openai: OPENAI_BASE_URL_PRO is set but OPENAI_API_KEY_PRO is not: pass `apiKey` or set OPENAI_API_KEY_PRO'
        : 'resilient-openai: no API key for the primary endpoint: pass `apiKey`, or set OPENAI_API_KEY_PRO (or OPENAI_API_KEY)',
      );
    }
  }

  const primaryName = options.name ?? 'primary';
  if (typeof primaryName !== 'string' || !primaryName) fail('name', 'a non-empty string', primaryName);
  const endpoints: EndpointSpec[] = [
    { name: primaryName, client: new OpenAI(primaryOptions), models: options.models, timeout: options.timeout },
  ];
  const secrets: unknown[] = [primaryOptions.apiKey, primaryOptions.adminAPIKey];

  const fallbackKey = env('OPENAI_API_KEY') ?? primaryOptions.apiKey;
  const fallbacks: readonly FallbackInput[] =
    options.fallback === undefined ? [{}]
    : Array.isArray(options.fallback) ? options.fallback
    : [options.fallback as FallbackInput];
  fallbacks.forEach((entry, i) => {
    const option = Array.isArray(options.fallback) ? `fallback[${i}]` : 'fallback';
    const defaultName = i === 0 ? 'fallback' : `fallback-${i + 1}`;
    const spec = toEndpoint(entry, option, defaultName, fallbackKey, secrets);
    if (endpoints.some((e) => e.name === spec.name)) fail(`${option}.name`, 'a name no other endpoint has', spec.name);
    endpoints.push(spec);
  });

  const retry = isPolicy<RetryPolicy>(options.retry, 'shouldRetry') ? options.retry : createRetryPolicy(options.retry ?? {});
  const failover =
    isPolicy<FailoverPolicy>(options.failover, 'shouldFailover') ? options.failover : createFailoverPolicy(options.failover ?? {});
  return {
    primaryOptions,
    endpoints,
    retry,
    failover,
    healthCheck: health.cfg,
    healthTimer: health.timer,
    breaker,
    timeouts,
    coordination,
    secrets,
  };
}

function toEndpoint(
  entry: unknown,
  option: string,
  defaultName: string,
  fallbackKey: ClientOptions['apiKey'],
  secrets: unknown[],
): EndpointSpec {
  const ownTimeout = (client: OpenAI) => (client.timeout === SDK_DEFAULT_TIMEOUT ? undefined : client.timeout);
  if (isClient(entry)) {
    secrets.push(entry.apiKey);
    return { name: defaultName, client: entry, timeout: ownTimeout(entry) };
  }
  if (typeof entry !== 'object' || entry === null) fail(option, 'client options or an OpenAI instance', entry);
  if ('client' in entry) {
    const named = entry as { name?: unknown; client?: unknown; models?: unknown };
    if (!isClient(named.client)) fail(`${option}.client`, 'an OpenAI instance', named.client);
    if (typeof named.name !== 'string' || !named.name) fail(`${option}.name`, 'a non-empty string', named.name);
    checkModels(`${option}.models`, named.models);
    secrets.push(named.client.apiKey);
    return { name: named.name, client: named.client, models: named.models as ModelMap | undefined, timeout: ownTimeout(named.client) };
  }
  const { name = defaultName, models, ...clientOptions } = entry as FallbackOptions;
  if (typeof name !== 'string' || !name) fail(`${option}.name`, 'a non-empty string', name);
  checkURL(`${option}.baseURL`, clientOptions.baseURL);
  checkNumber(`${option}.timeout`, clientOptions.timeout, 1);
  checkModels(`${option}.models`, models);
  const resolved: ClientOptions = { ...clientOptions };
  if (resolved.baseURL === undefined && !resolved.provider) resolved.baseURL = OFFICIAL_BASE_URL;
  if (resolved.apiKey === undefined && !resolved.provider && !resolved.adminAPIKey) resolved.apiKey = fallbackKey;
  secrets.push(resolved.apiKey, resolved.adminAPIKey);
  return { name, client: new OpenAI(resolved), models, timeout: clientOptions.timeout };
}
