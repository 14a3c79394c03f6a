import pRetry from 'p-retry';
import { APIConnectionTimeoutError, APIUserAbortError, type APIPromise, type OpenAI } from 'openai';
import { recordAttempts, type AttemptFailure } from './attempts.js';
import type { SafeEmitter } from './events.js';
import { log } from './log.js';
import type { NormalizedOptions } from './options.js';
import { decide, isProviderFault, statusOf, type Decision, type FailoverPolicy, type RetryPolicy } from './policy.js';
import { describeError, type SecretSet } from './redact.js';
import { bufferBody, guardStream } from './response-guard.js';
import type { Endpoint, Route, Router } from './router.js';
import { isStatefulRequest } from './stateful.js';
import { prepareAttempt, readFailoverOverride } from './request-copy.js';

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
  readonly router: Router;
  readonly emitter: SafeEmitter;
  readonly secrets: SecretSet;
  readonly retry: RetryPolicy;
  readonly failover: FailoverPolicy;
  readonly timeouts: NormalizedOptions['timeouts'];
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
 * retries off), p-retry drives the attempts, the policies decide between retry, failover and fail,
 * and the router's breakers decide where each attempt goes.
 */
export async function execute(
  core: Core,
  clientMaxRetries: number,
  optionsInput: RequestOptions | Promise<RequestOptions>,
  defaults: RequestDefaults,
): Promise<ResponseProps> {
  const options = await optionsInput;
  const signal = options.signal ?? undefined;
  const { router, emitter, secrets, timeouts } = core;
  const perCallRetries = options.maxRetries ?? defaults.maxRetries;
  const maxAttempts = perCallRetries != null ? perCallRetries + 1 : (core.retry.maxAttempts ?? clientMaxRetries + 1);
  const requestLogID = logID();
  const startTime = Date.now();
  const deadlineAt = startTime + timeouts.deadlineMs;
  const isStream = options.stream === true;
  const bufferable = !isStream && !options.__binaryResponse;
  const failures: AttemptFailure[] = [];
  const override = readFailoverOverride(options.headers);
  const request = { method: options.method, path: options.path, body: options.body };
  const { failover } = core;
  const pinned =
    override ? override === 'deny'
    : failover.staysOnEndpoint ? failover.staysOnEndpoint(request)
    : isStatefulRequest(request);
  const leftBehind = new Set<Endpoint>();
  let route: Route | undefined;
  // Where the next attempt goes, chosen (and any half-open slot reserved) before the wait.
  let reserved: Route | undefined;
  let sent = false;
  let sentAt = 0;
  let next: Endpoint | undefined;
  let decision: Decision = { action: 'fail' };
  let oneShotBody = false;

  const attempt = async (): Promise<ResponseProps> => {
    route = reserved ?? router.route(leftBehind);
    reserved = undefined;
    sent = false;
    if (signal?.aborted) throw new APIUserAbortError();
    const remaining = deadlineAt - Date.now();
    if (remaining <= 0) throw new APIConnectionTimeoutError({ message: `Call deadline of ${timeouts.deadlineMs}ms exceeded.` });
    const { endpoint } = route;
    // The controller is what `Stream` aborts on `break`: a stream's request follows it and the
    // caller's signal. A non-streaming call without a signal needs none: it is complete when it
    // returns, and creating an AbortSignal on every call is measurable. A caller's signal is
    // joined through AbortSignal.any, so a long-lived one does not collect a listener per call.
    const controller = new AbortController();
    const attemptMs = Math.min(options.timeout ?? defaults.timeout ?? endpoint.timeout ?? timeouts.requestMs, remaining);
    const headersMs = isStream ? Math.min(timeouts.streamHeadersMs, attemptMs) : attemptMs;
    const attemptSignal =
      signal ? both(signal, controller)
      : isStream ? controller.signal
      : undefined;
    const copy = prepareAttempt(options, endpoint, attemptSignal, Math.ceil(headersMs), defaults, override !== undefined);
    const started = Date.now();
    sentAt = started;
    sent = true;
    try {
      let response = await endpoint.client.request(copy).asResponse();
      const left = started + attemptMs - Date.now();
      if (bufferable && response.status !== 204) response = await bufferBody(response, left, attemptSignal);
      else if (isStream) response = await guardStream(response, left, controller, attemptSignal!, endpoint.name);
      router.success(route, started);
      const retryOf = failures.length ? requestLogID : undefined;
      return { response, options, controller, requestLogID, retryOfRequestLogID: retryOf, startTime };
    } catch (error) {
      oneShotBody ||= copy.__metadata?.['hasStreamingBody'] === true;
      failures.push({ endpoint: endpoint.name, error });
      throw error;
    }
  };

  try {
    // The happy path never enters p-retry; after a first failure p-retry drives the rest.
    let failed: unknown;
    try {
      return await attempt();
    } catch (error) {
      failed = error;
    }
    // Only a failed call pays for what follows.
    /** Learns from a failed attempt and decides what the call does next (sets `decision`). */
    const learn = (error: unknown, attemptNumber: number): void => {
      const current = route!;
      if (!sent) {
        // Nothing reached the endpoint (abort or deadline before sending): nothing to learn.
        router.release(current);
        decision = { action: 'fail' };
        return;
      }
      const { endpoint } = current;
      const context = { error, attempt: attemptNumber, endpoint: endpoint.name };
      const canFailover = !pinned && router.endpoints.length > 1;
      decision = decide(context, core, { canFailover, bodyIsOneShot: oneShotBody });
      // Failover-class errors feed the breaker even when this call may not move (pinned).
      const switching = decision.action === 'failover' || core.failover.shouldFailover(context);
      // The breaker learns from every attempt, including the last one.
      if (error instanceof APIUserAbortError) router.neutral(current);
      else router.failure(current, { error, fault: isProviderFault(error) || switching, switching }, 'error', sentAt);
      if (decision.action === 'failover') {
        log('%s failed (%s); failing over', endpoint.name, statusOf(error) ?? describeError(error, secrets));
        leftBehind.add(endpoint);
        next = undefined;
      } else {
        // Retries stay put while the endpoint's breaker lets them (always, for pinned calls).
        next = pinned || router.admitsRetry(endpoint) ? endpoint : undefined;
      }
    };

    /** Whether to make another attempt; waits the retry delay first. */
    const proceed = async (error: unknown, attemptNumber: number): Promise<boolean> => {
      if (decision.action === 'fail') return false;
      const delayMs = decision.action === 'retry' ? decision.delayMs : 0;
      if (Date.now() + delayMs >= deadlineAt) return false;
      reserved = next ? { endpoint: next, trial: false } : router.route(leftBehind);
      const target = reserved.endpoint.name;
      log(
        'attempt %d on %s failed (%s); retrying on %s in %dms',
        attemptNumber,
        route!.endpoint.name,
        describeError(error, secrets),
        target,
        delayMs,
      );
      emitter.emit('retry', { endpoint: target, attempt: attemptNumber, delayMs, error });
      if (delayMs > 0) {
        try {
          await abortableSleep(delayMs, signal);
        } catch (abort) {
          router.release(reserved);
          throw abort;
        }
      }
      return true;
    };

    learn(failed, 1);
    if (maxAttempts < 2 || !(await proceed(failed, 1))) throw failed;
    return await pRetry(attempt, {
      retries: maxAttempts - 2,
      // Delays come from the policy (Retry-After, jitter); p-retry's own backoff is off.
      minTimeout: 0,
      factor: 1,
      onFailedAttempt: ({ error, attemptNumber }) => learn(error, attemptNumber + 1),
      shouldRetry: ({ error, attemptNumber }) => proceed(error, attemptNumber + 1),
    });
  } catch (error) {
    recordAttempts(error, failures);
    throw error;
  }
}
