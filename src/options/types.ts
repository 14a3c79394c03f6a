// Every option a user can pass, in one place. Types only; they import nothing of ours but the
// contracts of the parts a user can plug in (policies, coordination), which import nothing.
import type { ClientOptions, OpenAI } from 'openai';
import type { Coordination, FailoverPolicy, RequestInfo, RetryPolicy } from './contracts.js';

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
   * Bound on a non-streaming attempt, headers and body, and on the wait from a stream's headers
   * to its first output, when neither the request nor the endpoint sets `timeout`. Non-streaming
   * answers arrive only when the whole generation is done, so this must exceed your longest
   * generation. @default 120000
   */
  requestMs?: number | undefined;
  /** Bound on the time to response headers of a streaming attempt; servers send them at once. @default 20000 */
  streamHeadersMs?: number | undefined;
  /**
   * Longest silence between two frames of a stream after its first output. Longer, and the
   * connection is closed and the iteration throws `StreamIdleTimeoutError`. Server-side tools
   * (web search, code interpreter) and reasoning pause streams mid-way, so keep it generous; the
   * wait for the first output is bounded by `requestMs` instead. @default 120000
   */
  streamIdleMs?: number | undefined;
  /** Bound on a whole call, all attempts and waits included, until its response (or stream) is returned. @default 300000 */
  deadlineMs?: number | undefined;
}

/**
 * How a background Responses stream (`background: true`, or a `responses.retrieve(id, { stream:
 * true })`) that is cut, stalls or breaks after output reached you continues where it stopped.
 */
export interface ResumeOptions {
  /** Continuations of one stream at most; then it throws `IncompleteStreamError`. @default 3 */
  attempts?: number | undefined;
  /** Wait before the first continuation, doubled before each next one. @default 500 */
  delayMs?: number | undefined;
}

/** How 429s that waiting does not heal soon are handled. */
export interface RateLimitOptions {
  /**
   * A 429 asking for a longer wait than this (`retry-after-ms`, `Retry-After`, or the
   * `x-ratelimit-reset-requests`/`-tokens` headers) fails over at once, and the endpoint gets no
   * traffic until the wait is over. A shorter wait is retried on the same endpoint. @default 5000
   */
  longWaitMs?: number | undefined;
  /**
   * A 429 that waiting never heals (`insufficient_quota`, billing limits) fails over at once, and
   * the endpoint gets no traffic for this long, health probes notwithstanding (they pass while a
   * quota is spent). @default 900000 (15 minutes)
   */
  quotaCooldownMs?: number | undefined;
}

/**
 * Stored state follows its home: the ids an endpoint returns for stored objects (responses,
 * conversations, files, vector stores, batches, ...) are remembered with that endpoint, and calls
 * that name them go there, whichever endpoint is active.
 */
export interface AffinityOptions {
  /** Most ids remembered per process; the least recently used is forgotten first. @default 100000 */
  maxIds?: number | undefined;
  /** How long an id is remembered after the last answer that showed it. @default 2592000000 (30 days) */
  ttlMs?: number | undefined;
}

/**
 * OpenTelemetry traces and metrics of every call. By default the providers the app registered
 * through `@opentelemetry/api` (1.x) are used; without any, nothing is recorded.
 */
export interface TelemetryOptions {
  /** An OpenTelemetry `TracerProvider` to use instead of the global one. */
  tracerProvider?: TracerProviderLike | undefined;
  /** An OpenTelemetry `MeterProvider` to use instead of the global one. */
  meterProvider?: MeterProviderLike | undefined;
}

/** An OpenTelemetry `TracerProvider` (e.g. the SDK's `BasicTracerProvider`), as far as the library uses it. */
export interface TracerProviderLike {
  /** The API's `getTracer(name, version)`. */
  getTracer(name: string, version?: string): unknown;
}

/** An OpenTelemetry `MeterProvider` (e.g. the SDK's `MeterProvider`), as far as the library uses it. */
export interface MeterProviderLike {
  /** The API's `getMeter(name, version)`. */
  getMeter(name: string, version?: string): unknown;
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
  /**
   * A ready client as the primary (an `AzureOpenAI`, say), used as it is; its name comes from
   * `name`. The primary's connection options (`baseURL`, `apiKey`, ...) belong to it: next to
   * `client` they are a TypeError. `maxRetries` still sets the attempts per call.
   */
  client?: OpenAI | undefined;
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
  /** 429s with a quota spent or a long wait: fail over at once and keep the endpoint out. */
  rateLimits?: RateLimitOptions | undefined;
  /** Background Responses streams continue after a cut; `false` turns that off. */
  resume?: ResumeOptions | false | undefined;
  /** Where calls on stored ids go; `false` forgets ids (calls stay on the endpoint they start on). */
  affinity?: AffinityOptions | false | undefined;
  /** OpenTelemetry traces and metrics; `false` records nothing. @default the app's global providers */
  telemetry?: TelemetryOptions | false | undefined;
  /** Model names as the primary knows them. */
  models?: ModelMap | undefined;
  /**
   * Shares breaker state and the health probe between processes, e.g.
   * `createRedisCoordination({ client })`. @default local: every process decides alone
   */
  coordination?: Coordination | undefined;
}

/** Options of each endpoint's circuit breaker. */
export interface BreakerOptions {
  /** Consecutive failover-class failures (502/503/504, connection errors, timeouts) that open it. @default 1 */
  failureThreshold?: number | undefined;
  /** Share of provider faults (5xx, connection errors, timeouts) in the window that opens it. @default 0.5 */
  failureRate?: number | undefined;
  /** Calls the window needs before `failureRate` applies. @default 10 */
  minimumCalls?: number | undefined;
  /** Length of the failure-rate window. @default 60000 */
  windowMs?: number | undefined;
  /** Time an open breaker waits before letting trial calls through. @default 30000 */
  cooldownMs?: number | undefined;
  /** Trial calls let through at once while half-open; every other call goes elsewhere. @default 1 */
  halfOpenMaxCalls?: number | undefined;
  /** Consecutive successes (trial calls or health probes) that close it again. @default 2 */
  successThreshold?: number | undefined;
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
