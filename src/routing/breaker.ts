import type { BreakerConfig } from '../options/defaults.js';

/** Circuit state of one endpoint. */
export type BreakerState = 'closed' | 'open' | 'half-open';

/** What the router may do with an endpoint right now. */
export type Admission = 'yes' | 'trial' | 'no';

// Outcomes are bucketed per second so that the window costs O(seconds), not O(calls).
const BUCKET_MS = 1000;

/**
 * One endpoint's breaker. Pure state machine: the caller passes the time, so tests need no clock.
 * `failure(now, switching)` counts a provider fault; `switching` marks failures the failover policy
 * switches on, which alone feed the consecutive-failure rule.
 */
export class Breaker {
  state: BreakerState = 'closed';
  consecutiveFailures = 0;
  consecutiveSuccesses = 0;
  openedAt = 0;
  closedAt = 0;
  trialsInFlight = 0;
  /**
   * Until when the endpoint is held out of traffic whatever else happens (a quota or a long
   * rate-limit wait): no trial before it, and a success (a health probe, which quotas do not
   * block) does not close it. 0 when not held.
   */
  heldUntil = 0;
  readonly #buckets: { at: number; calls: number; faults: number }[] = [];

  constructor(private readonly config: BreakerConfig) {}

  /** Whether a call may go to this endpoint now; `'trial'` reserves a half-open slot (release it). */
  admit(now: number): Admission {
    if (this.state === 'closed') return 'yes';
    if (this.state === 'open') {
      if (now - this.openedAt < this.config.cooldownMs || now < this.heldUntil) return 'no';
      this.state = 'half-open';
      this.consecutiveSuccesses = 0;
    }
    if (this.trialsInFlight >= this.config.halfOpenMaxCalls) return 'no';
    this.trialsInFlight++;
    return 'trial';
  }

  release(): void {
    if (this.trialsInFlight > 0) this.trialsInFlight--;
  }

  /**
   * Returns the new state when this success changed it. A call sent before the breaker opened
   * says nothing about the endpoint since: it counts in the window only.
   */
  success(now: number, sentAt = now): BreakerState | undefined {
    this.#record(now, false);
    if (this.state !== 'closed' && (sentAt < this.openedAt || now < this.heldUntil)) return undefined;
    this.consecutiveFailures = 0;
    if (this.state === 'closed') return undefined;
    // A success while open (a health probe) is the first step of a trial.
    if (this.state === 'open') this.state = 'half-open';
    this.consecutiveSuccesses++;
    if (this.consecutiveSuccesses >= this.config.successThreshold) {
      this.state = 'closed';
      this.closedAt = now;
      this.consecutiveSuccesses = 0;
      this.#buckets.length = 0;
      return 'closed';
    }
    return 'half-open';
  }

  /**
   * Returns the new state when this failure changed it. Stale calls only count in the window: sent
   * before the breaker opened (see `success`), or before it last closed.
   */
  failure(now: number, switching: boolean, sentAt = now): BreakerState | undefined {
    this.#record(now, true);
    if (sentAt < (this.state === 'closed' ? this.closedAt : this.openedAt)) return undefined;
    this.consecutiveSuccesses = 0;
    if (switching) this.consecutiveFailures++;
    if (this.state !== 'closed') {
      // A failed trial (or probe) restarts the cooldown.
      const changed = this.state === 'half-open';
      this.state = 'open';
      this.openedAt = now;
      return changed ? 'open' : undefined;
    }
    if (this.consecutiveFailures >= this.config.failureThreshold || this.#rateExceeded(now)) {
      this.state = 'open';
      this.openedAt = now;
      return 'open';
    }
    return undefined;
  }

  /** Holds the endpoint out of traffic until `until` (it answered with a quota or a long wait). */
  hold(now: number, until: number): BreakerState | undefined {
    const changed = this.state !== 'open';
    this.state = 'open';
    this.openedAt = now;
    this.heldUntil = Math.max(this.heldUntil, until);
    this.consecutiveSuccesses = 0;
    return changed ? 'open' : undefined;
  }

  /** Another instance saw this endpoint fail: open as if we had. */
  forceOpen(now: number): void {
    this.state = 'open';
    this.openedAt = now;
    this.consecutiveSuccesses = 0;
  }

  /** Another instance saw this endpoint recover: close as if we had. */
  forceClose(now: number): void {
    this.state = 'closed';
    this.closedAt = now;
    this.consecutiveFailures = 0;
    this.consecutiveSuccesses = 0;
    this.#buckets.length = 0;
  }

  /** A call that neither succeeded nor failed through the provider's fault (e.g. a 400). */
  neutral(now: number): void {
    this.#record(now, false);
  }

  #record(now: number, fault: boolean): void {
    const at = now - (now % BUCKET_MS);
    let last = this.#buckets[this.#buckets.length - 1];
    if (!last || last.at !== at) {
      last = { at, calls: 0, faults: 0 };
      this.#buckets.push(last);
    }
    last.calls++;
    if (fault) last.faults++;
    while (this.#buckets.length && this.#buckets[0]!.at <= now - this.config.windowMs) this.#buckets.shift();
  }

  #rateExceeded(now: number): boolean {
    let calls = 0;
    let faults = 0;
    for (const b of this.#buckets) {
      if (b.at > now - this.config.windowMs) {
        calls += b.calls;
        faults += b.faults;
      }
    }
    return calls >= this.config.minimumCalls && faults / calls >= this.config.failureRate;
  }
}
