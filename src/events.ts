import { EventEmitter } from 'eventemitter3';
import { log } from './log.js';

/** Why the active endpoint changed. */
export type SwitchReason =
  /** Calls failing on the active endpoint opened its breaker (by default one 502 does). */
  | 'error'
  /** A health probe of the primary failed and opened its breaker while it was active. */
  | 'healthcheck'
  /** An endpoint earlier in the order recovered (its breaker closed) and traffic went back to it. */
  | 'recovered';

export interface SwitchedEvent {
  /** Endpoint name traffic left, e.g. `'primary'`. */
  from: string;
  /** Endpoint name traffic now goes to, e.g. `'fallback'`. */
  to: string;
  reason: SwitchReason;
  /** The error that caused the switch (the SDK's own error object), when there was one. */
  error?: unknown;
}

export interface RecoveredEvent {
  endpoint: string;
  /** Time from the failure that marked the endpoint down until now. */
  downtimeMs: number;
}

export interface RetryEvent {
  /** Endpoint the next attempt goes to. */
  endpoint: string;
  /** Number of the attempt that just failed (1-based). */
  attempt: number;
  /** Wait before the next attempt; 0 on an immediate failover. */
  delayMs: number;
  error: unknown;
}

export interface HealthCheckEvent {
  endpoint: string;
  ok: boolean;
  latencyMs: number;
  error?: unknown;
}

export interface BreakerEvent {
  endpoint: string;
  /** New state: `'open'` skips the endpoint, `'half-open'` lets trial calls through, `'closed'` is normal. */
  state: 'closed' | 'open' | 'half-open';
  previous: 'closed' | 'open' | 'half-open';
}

/** Events emitted by `ResilientOpenAI`; listen with `client.on(name, listener)`. */
export interface ResilientEvents {
  switched: (event: SwitchedEvent) => void;
  breaker: (event: BreakerEvent) => void;
  recovered: (event: RecoveredEvent) => void;
  retry: (event: RetryEvent) => void;
  healthcheck: (event: HealthCheckEvent) => void;
}

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

  emit<E extends EventName>(event: E, payload: Parameters<ResilientEvents[E]>[0]): void {
    this.#inner.emit(event, payload);
  }

  listenerCount(event: EventName): number {
    return this.#inner.listenerCount(event);
  }

  #guard(event: string, listener: Listener): Listener {
    let byEvent = this.#guards.get(listener);
    if (!byEvent) this.#guards.set(listener, (byEvent = new Map()));
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
