import { EventEmitter } from 'eventemitter3';
import { log } from './log.js';

/** Why the active endpoint changed. */
export type SwitchReason =
  /** Calls failing on the active endpoint opened its breaker (by default one 502 does). */
  | 'error'
  /** A health probe of the primary failed and opened its breaker while it was active. */
  | 'healthcheck'
  /** An endpoint earlier in the order recovered (its breaker closed) and traffic went back to it. */
  | 'recovered'
  /** Another instance (see `coordination`) saw the endpoint fail. */
  | 'remote'
  /** The active endpoint answered a 429 that waiting does not heal (`insufficient_quota`, …). */
  | 'quota'
  /** The active endpoint asked for a longer wait than `rateLimits.longWaitMs` (Retry-After, `x-ratelimit-reset-*`). */
  | 'rate-limit';

/** Payload of `switched`: traffic moved from one endpoint to another. */
export interface SwitchedEvent {
  /** Endpoint name traffic left, e.g. `'primary'`. */
  from: string;
  /** Endpoint name traffic now goes to, e.g. `'fallback'`. */
  to: string;
  /** Why traffic moved. */
  reason: SwitchReason;
  /** The error that caused the switch (the SDK's own error object), when there was one. */
  error?: unknown;
  /** The call whose attempt caused the switch (as in its `retry` events), when a call did. */
  callId?: string;
}

/** Payload of `recovered`: an endpoint that was down closed its breaker again. */
export interface RecoveredEvent {
  /** Name of the endpoint. */
  endpoint: string;
  /** Time from the failure that marked the endpoint down until now. */
  downtimeMs: number;
  /** The call whose success closed the breaker, when a call did (not a probe). */
  callId?: string;
}

/** Payload of `retry`: a call is about to make another attempt. */
export interface RetryEvent {
  /** Endpoint the next attempt goes to. */
  endpoint: string;
  /** Endpoint the failed attempt went to. */
  from: string;
  /** The call's id: the same in every event of one call, on `getAttemptErrors()` entries and in debug logs. */
  callId: string;
  /** Number of the attempt that just failed (1-based). */
  attempt: number;
  /** Wait before the next attempt; 0 on an immediate failover. */
  delayMs: number;
  /** The SDK error of the failed attempt. */
  error: unknown;
}

/** Payload of `healthcheck`: a probe of the primary finished. */
export interface HealthCheckEvent {
  /** Name of the probed endpoint (the primary). */
  endpoint: string;
  /** Whether the probe succeeded. */
  ok: boolean;
  /** How long the probe took. */
  latencyMs: number;
  /** Why it failed, when it did. */
  error?: unknown;
  /** The HTTP status the probe got, when it failed with one. A 4xx is reported but moves no traffic. */
  status?: number;
}

/**
 * Payload of `resumed`: a background Responses stream that broke after output continues from the
 * same endpoint (`GET /responses/{id}?stream=true&starting_after=…`), the caller's iteration
 * uninterrupted.
 */
export interface ResumedEvent {
  /** The endpoint that holds the response (a stream never continues elsewhere). */
  endpoint: string;
  /** The response's id. */
  responseId: string;
  /** The `sequence_number` of the last event the caller received: the stream continues after it. */
  from: number;
  /** Which continuation of this stream it is: 1, 2, ... */
  attempt: number;
  /** What broke the stream. */
  error: unknown;
  /** The call whose stream it is (as in its debug log lines and other events). */
  callId: string;
}

/** Payload of `breaker`: an endpoint's circuit breaker changed state. */
export interface BreakerEvent {
  /** Name of the endpoint. */
  endpoint: string;
  /** New state: `'open'` skips the endpoint, `'half-open'` lets trial calls through, `'closed'` is normal. */
  state: 'closed' | 'open' | 'half-open';
  /** State before the change. */
  previous: 'closed' | 'open' | 'half-open';
  /** The call whose attempt caused the change, when a call did. */
  callId?: string;
}

/** Payload of `remote`: another instance shared a breaker change, and this one applied it. */
export interface RemoteEvent {
  /** Name of the endpoint. */
  endpoint: string;
  /** The state the other instance saw. */
  state: 'open' | 'closed';
  /** The instance that saw it. */
  instanceId: string;
}

/** Events emitted by `ResilientOpenAI`; listen with `client.on(name, listener)`. */
export interface ResilientEvents {
  /** Traffic moved to another endpoint. */
  switched: (event: SwitchedEvent) => unknown;
  /** An endpoint's breaker changed state. */
  breaker: (event: BreakerEvent) => unknown;
  /** An endpoint that was down is up again. */
  recovered: (event: RecoveredEvent) => unknown;
  /** A call is about to try again (after a wait, or at once on failover). */
  retry: (event: RetryEvent) => unknown;
  /** A probe of the primary finished. */
  healthcheck: (event: HealthCheckEvent) => unknown;
  /** Another instance shared a breaker change (with shared coordination only). */
  remote: (event: RemoteEvent) => unknown;
  /** A background Responses stream that broke after output continues where it stopped. */
  resumed: (event: ResumedEvent) => unknown;
}

/** Names of the events of {@link ResilientEvents}. */
export type EventName = keyof ResilientEvents;
type Listener = (...args: any[]) => unknown;

/**
 * An emitter whose listeners cannot hurt the caller: a listener that throws (or returns a
 * rejected promise) is logged and skipped, and the remaining listeners still run.
 */
export class SafeEmitter {
  readonly #inner = new EventEmitter();
  // Keyed by the user's function so `off(event, fn)` finds the guard that wraps it.
  readonly #guards = new WeakMap<Listener, Map<string, Listener>>();

  on<E extends EventName>(event: E, listener: ResilientEvents[E], once = false): void {
    const guard = this.#guard(event, listener as Listener);
    if (once) this.#inner.once(event, guard);
    else this.#inner.on(event, guard);
  }

  off<E extends EventName>(event: E, listener?: ResilientEvents[E]): void {
    if (!listener) {
      this.#inner.removeAllListeners(event);
      return;
    }
    const guard = this.#guards.get(listener as Listener)?.get(event);
    if (guard) this.#inner.off(event, guard);
  }

  /** The library's own observer (telemetry): hears every event, is not a listener, never throws out. */
  observer: ((event: EventName, payload: unknown) => void) | undefined;

  emit<E extends EventName>(event: E, payload: Parameters<ResilientEvents[E]>[0]): void {
    if (this.observer) {
      try {
        this.observer(event, payload);
      } catch (error) {
        reportListenerError(`${event} (telemetry)`, error);
      }
    }
    this.#inner.emit(event, payload);
  }

  listenerCount(event: EventName): number {
    return this.#inner.listenerCount(event);
  }

  #guard(event: string, listener: Listener): Listener {
    let byEvent = this.#guards.get(listener);
    if (!byEvent) this.#guards.set(listener, (byEvent = new Map<string, Listener>()));
    let guard = byEvent.get(event);
    if (!guard) {
      guard = (payload: unknown) => {
        try {
          const result = listener(payload);
          if (result && typeof (result as PromiseLike<unknown>).then === 'function') {
            (result as Promise<unknown>).then(undefined, (error: unknown) => reportListenerError(event, error));
          }
        } catch (error) {
          reportListenerError(event, error);
        }
      };
      byEvent.set(event, guard);
    }
    return guard;
  }
}

function reportListenerError(event: string, error: unknown): void {
  // Only the error's type: a listener's message could hold anything.
  log('a %s listener threw %s; ignored', event, error instanceof Error ? error.constructor.name : typeof error);
}
