import type { OpenAI } from 'openai';
import type { Coordination, RemoteChange } from '../options/contracts.js';
import type { SafeEmitter, SwitchReason } from '../observe/events.js';
import { log } from '../observe/log.js';
import { describeError, redactURL, type SecretSet } from '../observe/redact.js';
import type { BreakerConfig } from '../options/defaults.js';
import type { ModelMap } from '../options/types.js';
import { Breaker, type BreakerState } from './breaker.js';

/** An endpoint as configured: what the router is built from. */
export interface EndpointSpec {
  name: string;
  client: OpenAI;
  models?: ModelMap | undefined;
  timeout?: number | undefined;
}

export interface Endpoint {
  readonly name: string;
  readonly client: OpenAI;
  /** Position in the failover order; 0 is the primary. */
  readonly index: number;
  /** Base URL with credentials redacted, for status and logs. */
  readonly url: string;
  readonly breaker: Breaker;
  readonly models: ModelMap | undefined;
  /** The endpoint's own `timeout` when one was set (not the SDK's 10-minute default). */
  readonly timeout: number | undefined;
  downSince: number | null;
  /** Epoch of the last change applied from another instance. */
  remoteEpoch: number;
  lastFailureAt: number;
  lastError: string | null;
  /** Why the endpoint is held out of traffic until `breaker.heldUntil`, while it is. */
  heldFor: 'quota' | 'rate-limit' | null;
  lastSuccessAt: number | null;
  latencyMs: number | null;
}

export interface Route {
  endpoint: Endpoint;
  /** A half-open trial slot was reserved: pass it back to `success`/`failure`/`neutral`. */
  trial: boolean;
}

/** Failure details the router needs; the policy decided them. */
export interface Failure {
  error: unknown;
  /** A provider fault (5xx, connection error, timeout): counts against the breaker. */
  fault: boolean;
  /** The failover policy switches on it: feeds the consecutive-failure rule. */
  switching: boolean;
  /**
   * This process alone may have caused it (its own timeout: an overloaded event loop looks the
   * same): a breaker it opens is not shared with other processes.
   */
  local?: boolean;
}

/**
 * Where traffic goes. Each endpoint has a breaker; the active endpoint is the first one, in
 * failover order, whose breaker is closed. All changes to it happen here, so concurrent calls
 * observing the same failure produce one switch, not one per call.
 */
export class Router {
  readonly endpoints: readonly Endpoint[];
  #active: Endpoint;

  constructor(
    specs: readonly EndpointSpec[],
    breakerConfig: BreakerConfig,
    private readonly emitter: SafeEmitter,
    private readonly secrets: SecretSet,
    private readonly coordination: Coordination,
  ) {
    this.endpoints = specs.map((spec, index) => ({
      name: spec.name,
      client: spec.client,
      index,
      url: redactURL(spec.client.baseURL),
      breaker: new Breaker(breakerConfig),
      models: spec.models,
      timeout: spec.timeout,
      downSince: null,
      remoteEpoch: 0,
      lastFailureAt: 0,
      lastError: null,
      heldFor: null,
      lastSuccessAt: null,
      latencyMs: null,
    }));
    this.#active = this.endpoints[0]!;
  }

  get primary(): Endpoint {
    return this.endpoints[0]!;
  }

  get active(): Endpoint {
    return this.#active;
  }

  /**
   * The endpoint for the next attempt of a call, skipping those it already failed over from.
   * Half-open endpoints take a bounded number of trial calls; when nothing admits the call, it
   * still goes out, to the endpoint that failed longest ago.
   */
  route(exclude?: ReadonlySet<Endpoint>, callId?: string): Route {
    const now = Date.now();
    for (const endpoint of this.endpoints) {
      if (exclude?.has(endpoint)) continue;
      const before = endpoint.breaker.state;
      const admission = endpoint.breaker.admit(now);
      if (endpoint.breaker.state !== before) this.#transition(endpoint, before, 'recovered', { callId });
      if (admission === 'yes') return { endpoint, trial: false };
      if (admission === 'trial') return { endpoint, trial: true };
    }
    let best: Endpoint | undefined;
    for (const endpoint of this.endpoints) {
      if (exclude?.has(endpoint) && exclude.size < this.endpoints.length) continue;
      if (!best || endpoint.lastFailureAt < best.lastFailureAt) best = endpoint;
    }
    return { endpoint: best!, trial: false };
  }

  /** May a retry stay on `endpoint` (its breaker lets ordinary traffic through)? */
  admitsRetry(endpoint: Endpoint): boolean {
    return endpoint.breaker.state === 'closed';
  }

  /**
   * `sentAt`: when the request went out; answers to requests older than an opening are stale.
   * `latencyMs`: time to the response (for a stream, to its first output). `callId`: the call
   * that learned it, named in the events it causes.
   */
  success(route: Route, sentAt: number, latencyMs?: number, callId?: string): void {
    const { endpoint } = route;
    if (route.trial) endpoint.breaker.release();
    const now = Date.now();
    endpoint.lastSuccessAt = now;
    endpoint.latencyMs = latencyMs ?? now - sentAt;
    const before = endpoint.breaker.state;
    endpoint.breaker.success(now, sentAt);
    if (endpoint.breaker.state !== before) this.#transition(endpoint, before, 'recovered', { callId });
  }

  failure(route: Route, failure: Failure, reason: Exclude<SwitchReason, 'recovered'>, sentAt: number, callId?: string): void {
    const { endpoint } = route;
    if (route.trial) endpoint.breaker.release();
    const now = Date.now();
    if (!failure.fault) {
      endpoint.breaker.neutral(now);
      return;
    }
    endpoint.lastFailureAt = now;
    endpoint.lastError = describeError(failure.error, this.secrets);
    const before = endpoint.breaker.state;
    endpoint.breaker.failure(now, failure.switching, sentAt);
    if (endpoint.breaker.state !== before)
      this.#transition(endpoint, before, reason, { error: failure.error, callId, local: failure.local });
  }

  /**
   * A quota or a long rate-limit wait: the endpoint is out of traffic until `until`, whatever
   * else happens meanwhile (health probes pass while a quota is spent).
   */
  hold(route: Route, until: number, reason: 'quota' | 'rate-limit', error: unknown, callId?: string): void {
    const { endpoint } = route;
    if (route.trial) endpoint.breaker.release();
    const now = Date.now();
    endpoint.lastFailureAt = now;
    endpoint.lastError = describeError(error, this.secrets);
    endpoint.heldFor = reason;
    const before = endpoint.breaker.state;
    endpoint.breaker.hold(now, until);
    log('%s held out of traffic until %s (%s)', endpoint.name, new Date(until).toISOString(), reason);
    if (endpoint.breaker.state !== before) this.#transition(endpoint, before, reason, { error, callId });
  }

  /** Gives back a half-open slot that was reserved but never used. */
  release(route: Route): void {
    if (route.trial) route.endpoint.breaker.release();
  }

  /** A call that ended without telling anything about the endpoint (aborted, client error). */
  neutral(route: Route): void {
    if (route.trial) route.endpoint.breaker.release();
    route.endpoint.breaker.neutral(Date.now());
  }

  /** Applies a change another instance saw; older than what this one knows, it is ignored. */
  applyRemote(change: RemoteChange): void {
    const endpoint = this.endpoints.find((e) => e.name === change.endpoint);
    if (!endpoint || change.epoch <= endpoint.remoteEpoch) return;
    // A hold (a quota, a long wait, seen here or shared) stands until it ends.
    if (change.state === 'closed' && Date.now() < endpoint.breaker.heldUntil) return;
    endpoint.remoteEpoch = change.epoch;
    const before = endpoint.breaker.state;
    const now = Date.now();
    // Another process's quota or long wait: held out until then here too (whatever the state).
    if (change.state === 'open' && change.hold && change.hold.until > now) {
      endpoint.breaker.hold(now, change.hold.until);
      endpoint.heldFor = change.hold.reason;
      if (before === 'open') return;
    } else if (change.state === 'open' && before !== 'open') endpoint.breaker.forceOpen(now);
    else if (change.state === 'closed' && before !== 'closed') endpoint.breaker.forceClose(Date.now());
    else return;
    log('%s %s on instance %s', endpoint.name, change.state === 'open' ? 'failed' : 'recovered', change.instanceId);
    this.emitter.emit('remote', { endpoint: endpoint.name, state: change.state, instanceId: change.instanceId });
    this.#transition(endpoint, before, 'remote', { remote: true });
  }

  #transition(
    endpoint: Endpoint,
    previous: BreakerState,
    reason: SwitchReason,
    cause: { error?: unknown; remote?: boolean; callId?: string | undefined; local?: boolean | undefined },
  ): void {
    const { error, remote = false, callId, local = false } = cause;
    // The call that caused it, when one did (not a probe, not another instance).
    const ofCall = callId === undefined ? {} : { callId };
    const state = endpoint.breaker.state;
    const now = Date.now();
    // Share what this process saw (not what it was told): one publish per real change.
    // An opening is shared only when the server proved it (an answer, a refused or reset
    // connection), never when this process's own timeout may have caused it.
    if (!remote && state !== 'half-open' && !(local && state === 'open')) {
      const held = state === 'open' && endpoint.heldFor !== null && endpoint.breaker.heldUntil > now;
      this.coordination.publish(
        held ?
          { endpoint: endpoint.name, state, hold: { until: endpoint.breaker.heldUntil, reason: endpoint.heldFor! } }
        : { endpoint: endpoint.name, state },
      );
    }
    log('%s breaker %s -> %s', endpoint.name, previous, state);
    this.emitter.emit('breaker', { endpoint: endpoint.name, state, previous, ...ofCall });
    if (state === 'open' && endpoint.downSince === null) {
      endpoint.downSince = now;
      log('%s unavailable (%s)', endpoint.name, endpoint.lastError);
    }
    if (state === 'closed') {
      endpoint.heldFor = null;
      const downtimeMs = endpoint.downSince === null ? 0 : now - endpoint.downSince;
      endpoint.downSince = null;
      log('%s available again after %dms', endpoint.name, downtimeMs);
      this.emitter.emit('recovered', { endpoint: endpoint.name, downtimeMs, ...ofCall });
    }
    // Traffic goes to the first closed endpoint; with none closed it stays where it is.
    const next = this.endpoints.find((e) => e.breaker.state === 'closed');
    if (next && next !== this.#active) this.#switchTo(next, state === 'closed' ? 'recovered' : reason, error, callId);
  }

  #switchTo(to: Endpoint, reason: SwitchReason, error: unknown, callId: string | undefined): void {
    const from = this.#active;
    this.#active = to;
    if (reason === 'recovered') log('%s available; switching back from %s', to.name, from.name);
    else log('%s unavailable, using %s (%s)', from.name, to.name, from.lastError ?? reason);
    this.emitter.emit('switched', {
      from: from.name,
      to: to.name,
      reason,
      ...(error !== undefined && { error }),
      ...(callId !== undefined && { callId }),
    });
  }
}
