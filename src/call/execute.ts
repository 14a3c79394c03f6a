import { APIConnectionTimeoutError, APIUserAbortError } from 'openai';
import { log } from '../observe/log.js';
import type { CallTrace } from '../observe/telemetry/call-trace.js';
import { describeError } from '../observe/redact.js';
import { markServedBy } from '../affinity/pages.js';
import { holdEnd, isProviderFault, neverArrived, rateLimitVerdict, statusOf } from '../routing/classify.js';
import { decide, type Decision } from '../routing/decide.js';
import type { Endpoint, Route } from '../routing/router.js';
import { bufferedJSON } from '../streams/buffer-body.js';
import { StreamIdleTimeoutError } from '../streams/errors.js';
import type { StreamWatch } from '../streams/guard-stream.js';
import { recordAttempts, type AttemptFailure } from './attempt-records.js';
import { Attempt } from './attempt.js';
import { keepAnswer } from '../streams/kept-answers.js';
import { planCall, type CallPlan } from './plan.js';
import { resumerFor } from './resume.js';
import { abortableSleep } from './signals.js';
import type { Core, RequestDefaults, RequestOptions, ResponseProps } from './types.js';

/** A timeout of this process's own: the upstream may be fine and this event loop overloaded. */
function isOwnTimeout(error: unknown): boolean {
  return error instanceof APIConnectionTimeoutError || error instanceof StreamIdleTimeoutError;
}

/**
 * Runs one call: the first attempt directly (the happy path never enters p-retry), then p-retry
 * drives the rest, with the policies deciding between retry, failover and fail and the router's
 * breakers deciding where each attempt goes.
 */
export async function execute(
  core: Core,
  clientMaxRetries: number,
  options: RequestOptions | Promise<RequestOptions>,
  defaults: RequestDefaults,
  list = false,
  raw = false,
): Promise<ResponseProps> {
  const plan = planCall(core, clientMaxRetries, await options, defaults, list, raw);
  const { method, path, body } = plan.options;
  const traced = core.telemetry.startCall({ method, path, body, callId: plan.requestLogID, stream: plan.isStream });
  // A promise only at the first traced call (the recorders load): no extra turn for the others.
  const trace = traced instanceof Promise ? await traced : traced;
  const found = findHome(core, plan);
  // Awaited only when a shared store is asked: the common call takes no extra turn.
  const call = new Call(core, plan, found instanceof Promise ? await found : found, trace);
  try {
    let failed: unknown;
    try {
      return await call.attempt();
    } catch (error) {
      failed = error;
    }
    // Only a failed call pays for what follows.
    call.afterFailure(failed, 1);
    if (plan.maxAttempts < 2 || !(await call.proceed(failed, 1))) throw failed;
    // Imported on the first retry: an app whose calls succeed never loads it.
    const { default: pRetry } = await import('p-retry');
    return await pRetry(call.attempt, {
      retries: plan.maxAttempts - 2,
      // Delays come from the policy (Retry-After, jitter); p-retry's own backoff is off.
      minTimeout: 0,
      factor: 1,
      onFailedAttempt: ({ error, attemptNumber }) => call.afterFailure(error, attemptNumber + 1),
      shouldRetry: ({ error, attemptNumber }) => call.proceed(error, attemptNumber + 1),
    });
  } catch (error) {
    recordAttempts(error, call.failures);
    trace?.failed(error);
    throw error;
  }
}

/**
 * The endpoint that created the stored ids the call names, if it names any this client knows
 * (here or, through the coordination, in another process). An `allow` override lets the call
 * route like a stateless one.
 */
function findHome(core: Core, plan: CallPlan): Endpoint | undefined | Promise<Endpoint | undefined> {
  if (plan.override === 'allow') return undefined;
  const { options } = plan;
  return core.homes.find({ path: options.path, query: options.query, body: options.body, options });
}

/**
 * The state of one call between its attempts. Each attempt goes through the same steps, in this
 * order: choose the endpoint, send, and on failure learn (the breaker), decide (retry, fail over
 * or fail), then wait and reserve the next endpoint.
 */
class Call {
  readonly failures: AttemptFailure[] = [];
  /** Endpoints this call failed over from: the router skips them. */
  readonly #leftBehind = new Set<Endpoint>();
  #route: Route | undefined;
  /** The attempt that went out on `#route`; undefined when the call ended before sending. */
  #sent: Attempt | undefined;
  /** Where the next attempt goes, chosen (and any half-open slot reserved) before the wait. */
  #reserved: Route | undefined;
  /** Where a retry stays, when it may stay; undefined lets the router choose. */
  #stayOn: Endpoint | undefined;
  #decision: Decision = { action: 'fail' };
  #oneShotBody = false;

  constructor(
    private readonly core: Core,
    private readonly plan: CallPlan,
    /** Where every attempt goes: the endpoint that created the ids the call names. */
    private readonly home: Endpoint | undefined,
    private readonly trace: CallTrace | undefined,
  ) {}

  /** Sends one attempt and returns what the SDK parses; a failed attempt throws its SDK error. */
  readonly attempt = async (): Promise<ResponseProps> => {
    const route = this.#choose();
    const { plan, core } = this;
    if (plan.signal?.aborted) throw new APIUserAbortError();
    const remainingMs = plan.deadlineAt - Date.now();
    if (remainingMs <= 0) throw new APIConnectionTimeoutError({ message: `Call deadline of ${core.timeouts.deadlineMs}ms exceeded.` });
    const attempt = new Attempt(route.endpoint, plan, core.timeouts, remainingMs, core.secrets);
    this.#sent = attempt;
    const attemptNumber = this.failures.length + 1;
    const span = this.trace?.attempt(route.endpoint, plan.options.method);
    try {
      const watch = plan.isStream ? this.#watch(route.endpoint, attempt.sentAt, attemptNumber) : undefined;
      const response = await attempt.send(watch, watch && resumerFor(core, plan, route.endpoint, this.trace));
      span?.succeeded(response.status);
      if (watch) {
        // A stream is judged at its end (see #watch); its trial slot, if any, is free from now.
        watch.latencyMs = Date.now() - attempt.sentAt;
        core.router.release(route);
        this.trace?.firstChunk();
      } else {
        core.router.success(route, attempt.sentAt, undefined, plan.requestLogID);
        const json = plan.records || this.trace ? bufferedJSON(response) : undefined;
        // Before the caller can name them in its next call.
        if (plan.records) core.homes.rememberAnswer(json, plan.records, route.endpoint);
        this.trace?.answered(json);
      }
      const retryOf = this.failures.length ? plan.requestLogID : undefined;
      const { requestLogID, startTime } = plan;
      const options = plan.list ? markServedBy(plan.options, route.endpoint.name) : plan.options;
      return { response, options, controller: attempt.controller, requestLogID, retryOfRequestLogID: retryOf, startTime };
    } catch (error) {
      span?.failed(error);
      if (attempt.answer) keepAnswer(error, attempt.answer);
      this.#oneShotBody ||= attempt.oneShotBody;
      this.failures.push({ endpoint: route.endpoint.name, error, callId: plan.requestLogID });
      throw error;
    }
  };

  /** Step 1: the endpoint reserved during the last wait, or the router's choice now. */
  #choose(): Route {
    const route =
      this.#reserved ??
      (this.home ? { endpoint: this.home, trial: false } : this.core.router.route(this.#leftBehind, this.plan.requestLogID));
    this.#reserved = undefined;
    this.#route = route;
    this.#sent = undefined;
    return route;
  }

  /**
   * How a stream that was handed out ends: at its terminal frame it counts as a success; a cut,
   * a stall or a provider's error frame after output counts as a failure (never retried: the
   * caller has part of the output). A stream the caller abandons tells the breaker nothing.
   */
  #watch(endpoint: Endpoint, sentAt: number, attempt: number): StreamWatch & { latencyMs?: number } {
    const { router, failover, homes } = this.core;
    const route = { endpoint, trial: false };
    const callId = this.plan.requestLogID;
    const { records } = this.plan;
    const { trace } = this;
    return {
      ...(trace && { abandoned: () => trace.streamEnded() }),
      ...(records && { stored: (event: unknown) => homes.rememberStreamEvent(event, records, endpoint) }),
      whole() {
        // Latency is the time to the first output, set when the stream was handed out.
        router.success(route, sentAt, this.latencyMs, callId);
        trace?.streamEnded();
      },
      broken: (error) => {
        trace?.streamEnded(error);
        log('[%s] stream from %s broke after output (%s)', callId, endpoint.name, describeError(error, this.core.secrets));
        const switching = failover.shouldFailover({ error, attempt, endpoint: endpoint.name });
        router.failure(
          route,
          { error, fault: isProviderFault(error) || switching, switching, local: isOwnTimeout(error) },
          'error',
          sentAt,
          callId,
        );
      },
    };
  }

  /** Steps 3 and 4: what the breaker learns from a failed attempt, and what the call does next. */
  afterFailure(error: unknown, attemptNumber: number): void {
    const route = this.#route!;
    const { router } = this.core;
    if (!this.#sent) {
      // Nothing reached the endpoint (abort or deadline before sending): nothing to learn.
      router.release(route);
      this.#decision = { action: 'fail' };
      return;
    }
    const { endpoint } = route;
    const context = { error, attempt: attemptNumber, endpoint: endpoint.name };
    const canFailover = router.endpoints.length > 1 && !this.home && (!this.plan.pinned || this.#mayLeave(error));
    const { rateLimits } = this.core;
    const verdict = rateLimitVerdict(error, rateLimits.longWaitMs);
    this.#decision = decide(context, this.core, { canFailover, bodyIsOneShot: this.#oneShotBody, verdict });
    // Failover-class errors feed the breaker even when this call may not move (pinned).
    const switching = this.#decision.action === 'failover' || this.core.failover.shouldFailover(context);
    // The breaker learns from every attempt, including the last one.
    const callId = this.plan.requestLogID;
    if (verdict) {
      router.hold(route, holdEnd(verdict, rateLimits.quotaCooldownMs), verdict.kind, error, callId);
    } else if (error instanceof APIUserAbortError) router.neutral(route);
    else
      router.failure(
        route,
        { error, fault: isProviderFault(error) || switching, switching, local: isOwnTimeout(error) },
        'error',
        this.#sent.sentAt,
        callId,
      );
    if (this.#decision.action === 'failover') {
      log('[%s] %s failed (%s); failing over', callId, endpoint.name, statusOf(error) ?? describeError(error, this.core.secrets));
      this.#leftBehind.add(endpoint);
      this.#stayOn = undefined;
    } else {
      // Retries stay put while the endpoint's breaker lets them (always, for pinned calls).
      this.#stayOn = this.home ?? (this.plan.pinned || router.admitsRetry(endpoint) ? endpoint : undefined);
    }
  }

  /**
   * A pinned call that names no known id may still leave an endpoint it provably never reached
   * (refused, unresolvable): nothing was created or read there. Not against an explicit `deny`.
   */
  #mayLeave(error: unknown): boolean {
    return this.plan.override !== 'deny' && neverArrived(error);
  }

  /** Step 5: whether to make another attempt; reserves its endpoint and waits the retry delay. */
  async proceed(error: unknown, attemptNumber: number): Promise<boolean> {
    const decision = this.#decision;
    if (decision.action === 'fail') return false;
    const delayMs = decision.action === 'retry' ? decision.delayMs : 0;
    if (Date.now() + delayMs >= this.plan.deadlineAt) return false;
    const { router, emitter, secrets } = this.core;
    const callId = this.plan.requestLogID;
    const next = this.#stayOn ? { endpoint: this.#stayOn, trial: false } : router.route(this.#leftBehind, callId);
    this.#reserved = next;
    const target = next.endpoint.name;
    const from = this.#route!.endpoint.name;
    log(
      '[%s] attempt %d on %s failed (%s); retrying on %s in %dms',
      callId,
      attemptNumber,
      from,
      describeError(error, secrets),
      target,
      delayMs,
    );
    emitter.emit('retry', { endpoint: target, from, callId, attempt: attemptNumber, delayMs, error });
    if (delayMs > 0) {
      try {
        await abortableSleep(delayMs, this.plan.signal);
      } catch (abort) {
        router.release(next);
        throw abort;
      }
    }
    return true;
  }
}
