import type { OpenAI } from 'openai';
import type { SafeEmitter, SwitchReason } from './events.js';
import { log } from './log.js';
import { describeError, redactURL, type SecretSet } from './redact.js';
import type { EndpointSpec } from './options.js';

export interface Endpoint {
  readonly name: string;
  readonly client: OpenAI;
  /** Position in the failover order; 0 is the primary. */
  readonly index: number;
  /** Base URL with credentials redacted, for status and logs. */
  readonly url: string;
  available: boolean;
  downSince: number | null;
  lastFailureAt: number;
  lastError: string | null;
}

/**
 * Which endpoint gets traffic. All decisions that change it live here, so that concurrent calls
 * observing the same failure produce one switch, not one per call.
 */
export class FailoverState {
  readonly endpoints: readonly Endpoint[];
  #active: Endpoint;

  constructor(
    specs: readonly EndpointSpec[],
    private readonly emitter: SafeEmitter,
    private readonly secrets: SecretSet,
  ) {
    this.endpoints = specs.map((spec, index) => ({
      name: spec.name,
      client: spec.client,
      index,
      url: redactURL(spec.client.baseURL),
      available: true,
      downSince: null,
      lastFailureAt: 0,
      lastError: null,
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
   * Endpoint for the next attempt of a call whose previous attempt failed over away from `from`.
   * Normally the active one; when every other endpoint is down too, the one that failed longest ago.
   */
  targetAfterFailover(from: Endpoint): Endpoint {
    if (this.#active !== from) return this.#active;
    let best: Endpoint = from;
    for (const e of this.endpoints) {
      if (e === from) continue;
      if (best === from || e.lastFailureAt < best.lastFailureAt) best = e;
    }
    return best;
  }

  /** An attempt on `endpoint` failed with an error the failover policy switches on. */
  markFailed(endpoint: Endpoint, error: unknown, reason: Exclude<SwitchReason, 'recovered'>): void {
    const now = Date.now();
    endpoint.lastFailureAt = now;
    endpoint.lastError = describeError(error, this.secrets);
    if (endpoint.available) {
      endpoint.available = false;
      endpoint.downSince = now;
      log('%s unavailable (%s)', endpoint.name, endpoint.lastError);
    }
    if (endpoint !== this.#active) return;
    const next = this.#nextAvailable(endpoint);
    if (!next) {
      log('%s failed and no other endpoint is available; staying on it', endpoint.name);
      return;
    }
    this.#switchTo(next, reason, error);
  }

  /** A call or probe succeeded on `endpoint`. Cheap on the hot path: nothing to do when it was up. */
  markHealthy(endpoint: Endpoint): void {
    if (endpoint.available) return;
    const downtimeMs = endpoint.downSince === null ? 0 : Date.now() - endpoint.downSince;
    endpoint.available = true;
    endpoint.downSince = null;
    log('%s available again after %dms', endpoint.name, downtimeMs);
    this.emitter.emit('recovered', { endpoint: endpoint.name, downtimeMs });
    // Traffic goes back to the endpoint earliest in the order that is up (normally the primary).
    if (endpoint.index < this.#active.index || !this.#active.available) this.#switchTo(endpoint, 'recovered');
  }

  #nextAvailable(from: Endpoint): Endpoint | undefined {
    const n = this.endpoints.length;
    for (let step = 1; step < n; step++) {
      const candidate = this.endpoints[(from.index + step) % n]!;
      if (candidate.available) return candidate;
    }
    return undefined;
  }

  #switchTo(to: Endpoint, reason: SwitchReason, error?: unknown): void {
    const from = this.#active;
    if (from === to) return;
    this.#active = to;
    if (reason === 'recovered') log('%s available; switching back from %s', to.name, from.name);
    else log('%s unavailable, using %s (%s)', from.name, to.name, from.lastError ?? reason);
    this.emitter.emit('switched', error === undefined ? { from: from.name, to: to.name, reason } : { from: from.name, to: to.name, reason, error });
  }
}
