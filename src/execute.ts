import pRetry from 'p-retry';
import { APIUserAbortError, type APIPromise, type OpenAI } from 'openai';
import { recordAttempts, type AttemptFailure } from './attempts.js';
import type { SafeEmitter } from './events.js';
import { mergeHeaders } from './headers.js';
import { log } from './log.js';
import { decide, statusOf, type Decision, type FailoverPolicy, type RetryPolicy } from './policy.js';
import { describeError, type SecretSet } from './redact.js';
import type { Endpoint, FailoverState } from './state.js';

// The SDK keeps these types internal; derive them from its public signatures.
export type RequestOptions = Awaited<Parameters<OpenAI['request']>[0]>;
export type ResponseProps = Awaited<ConstructorParameters<typeof APIPromise>[1]>;

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
  readonly state: FailoverState;
  readonly emitter: SafeEmitter;
  readonly secrets: SecretSet;
  readonly retry: RetryPolicy;
  readonly failover: FailoverPolicy;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

// Inner clients mutate the options they are given (Azure rewrites `path`, openai 7 `body`), so each
// attempt gets its own copy; the caller's object stays intact for parsing and next pages.
function attemptOptions(options: RequestOptions, signal: AbortSignal, defaults: RequestDefaults): RequestOptions {
  const copy: RequestOptions = { ...options, maxRetries: 0, signal };
  if (options.__metadata) copy.__metadata = { ...options.__metadata };
  if (isPlainObject(options.body)) copy.body = { ...options.body };
  if (copy.timeout == null && defaults.timeout !== undefined) copy.timeout = defaults.timeout;
  if (defaults.headers) copy.headers = mergeHeaders(defaults.headers, options.headers) as RequestOptions['headers'];
  if (defaults.query) copy.query = { ...defaults.query, ...(options.query as object | undefined) };
  if (defaults.fetchOptions) copy.fetchOptions = { ...defaults.fetchOptions, ...options.fetchOptions };
  return copy;
}

function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new APIUserAbortError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new APIUserAbortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A signal that aborts when either does. `AbortSignal.any` holds the caller's signal weakly, so a
 * long-lived signal shared by many calls does not collect one listener per call.
 */
function both(signal: AbortSignal, controller: AbortController): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([signal, controller.signal]);
  signal.addEventListener('abort', () => controller.abort(), { once: true });
  return controller.signal;
}

function logID(): string {
  return 'log_' + ((Math.random() * (1 << 24)) | 0).toString(16).padStart(6, '0');
}

/**
 * Runs one call: each attempt is exactly one HTTP request through one inner client (its own
 * retries off), p-retry drives the attempts, the policies decide between retry, failover and fail.
 */
export async function execute(
  core: Core,
  clientMaxRetries: number,
  optionsInput: RequestOptions | Promise<RequestOptions>,
  defaults: RequestDefaults,
): Promise<ResponseProps> {
  const options = await optionsInput;
  const signal = options.signal ?? undefined;
  const { state, emitter, secrets } = core;
  const perCallRetries = options.maxRetries ?? defaults.maxRetries;
  const maxAttempts = perCallRetries != null ? perCallRetries + 1 : (core.retry.maxAttempts ?? clientMaxRetries + 1);
  const requestLogID = logID();
  const startTime = Date.now();
  const failures: AttemptFailure[] = [];
  let target: Endpoint = state.active;
  let current: Endpoint = target;
  let decision: Decision = { action: 'fail' };
  let oneShotBody = false;

  const attempt = async (): Promise<ResponseProps> => {
    if (signal?.aborted) throw new APIUserAbortError();
    current = target;
    // The controller is what `Stream` aborts on `break`; the request also follows the caller's signal.
    const controller = new AbortController();
    const copy = attemptOptions(options, signal ? both(signal, controller) : controller.signal, defaults);
    try {
      const response = await current.client.request(copy).asResponse();
      state.markHealthy(current);
      const retryOf = failures.length ? requestLogID : undefined;
      return { response, options, controller, requestLogID, retryOfRequestLogID: retryOf, startTime };
    } catch (error) {
      oneShotBody ||= copy.__metadata?.['hasStreamingBody'] === true;
      failures.push({ endpoint: current.name, error });
      throw error;
    }
  };

  try {
    return await pRetry(attempt, {
      retries: maxAttempts - 1,
      // Delays come from the policy (Retry-After, jitter); p-retry's own backoff is off.
      minTimeout: 0,
      factor: 1,
      onFailedAttempt({ error, attemptNumber }) {
        const context = { error, attempt: attemptNumber, endpoint: current.name };
        const canFailover = state.endpoints.length > 1;
        decision = decide(context, core, { canFailover, bodyIsOneShot: oneShotBody });
        // State changes even on the last attempt, so that the next call goes to the right place.
        if (decision.action === 'failover') {
          const status = statusOf(error);
          log('%s failed (%s); failing over', current.name, status ?? describeError(error, secrets));
          state.markFailed(current, error, 'error');
          target = state.targetAfterFailover(current);
        } else {
          target = current.available ? current : state.active;
        }
      },
      async shouldRetry({ error, attemptNumber }) {
        if (decision.action === 'fail') return false;
        const delayMs = decision.action === 'retry' ? decision.delayMs : 0;
        log('attempt %d on %s failed (%s); retrying on %s in %dms', attemptNumber, current.name, describeError(error, secrets), target.name, delayMs);
        emitter.emit('retry', { endpoint: target.name, attempt: attemptNumber, delayMs, error });
        if (delayMs > 0) await abortableSleep(delayMs, signal);
        return true;
      },
    });
  } catch (error) {
    recordAttempts(error, failures);
    throw error;
  }
}
