// Types of the call layer, derived from the SDK's public signatures (it keeps its own internal).
// Types only, imported by every file of call/, so that none of them imports another for a type.
import type { APIPromise, OpenAI } from 'openai';
import type { SafeEmitter } from '../observe/events.js';
import type { SecretSet } from '../observe/redact.js';
import type { NormalizedRateLimits, NormalizedResume, NormalizedTimeouts } from '../options/defaults.js';
import type { Homes } from '../affinity/homes.js';
import type { Telemetry } from '../observe/telemetry/telemetry.js';
import type { Router } from '../routing/router.js';
import type { FailoverPolicy, RetryPolicy } from '../options/contracts.js';

/** The options of one SDK request, as `client.request()` receives them. */
export type RequestOptions = Awaited<Parameters<OpenAI['request']>[0]>;

/** What `APIPromise`/`PagePromise` parse: the response of the attempt that succeeded. */
export type ResponseProps = Awaited<ConstructorParameters<typeof APIPromise>[1]>;

/** The SDK's per-request options type (kept internal by the SDK; derived from a public method). */
export type PerRequestOptions = NonNullable<Parameters<OpenAI['models']['list']>[0]>;

/** Per-client request defaults set by `withOptions()`; applied under each request's own options. */
export interface RequestDefaults {
  timeout?: number | undefined;
  maxRetries?: number | undefined;
  headers?: unknown;
  query?: Record<string, unknown> | undefined;
  fetchOptions?: RequestOptions['fetchOptions'];
}

/** What every `ResilientOpenAI` sharing one failover state also shares. */
export interface Core {
  readonly router: Router;
  readonly emitter: SafeEmitter;
  readonly secrets: SecretSet;
  readonly retry: RetryPolicy;
  readonly failover: FailoverPolicy;
  readonly timeouts: NormalizedTimeouts;
  readonly rateLimits: NormalizedRateLimits;
  /** How background Responses streams continue after a cut; false: they do not. */
  readonly resume: NormalizedResume;
  /** Where calls on stored ids go, and the ids answers create. */
  readonly homes: Homes;
  /** Traces and metrics (OpenTelemetry), when an app registered providers. */
  readonly telemetry: Telemetry;
}
