import type { Coordination } from '../options/contracts.js';
import type { SafeEmitter } from '../observe/events.js';
import { log } from '../observe/log.js';
import { describeError, type SecretSet } from '../observe/redact.js';
import type { NormalizedRateLimits } from '../options/defaults.js';
import type { NormalizedHealthCheck } from '../options/groups.js';
import { holdEnd, rateLimitVerdict, statusOf } from '../routing/classify.js';
import type { Router } from '../routing/router.js';

class ProbeTimeoutError extends Error {
  constructor(ms: number) {
    super(`health probe timed out after ${ms}ms`);
    this.name = 'ProbeTimeoutError';
  }
}

/** Probes the primary on a timer and on demand; concurrent checks share one probe. */
export class HealthMonitor {
  #timer: ReturnType<typeof setInterval> | undefined;
  #inFlight: Promise<boolean> | undefined;
  /** The probe under way; `stop()` aborts it and drops its result. */
  #current: { controller: AbortController; dropped: boolean } | undefined;
  lastCheckedAt: number | null = null;
  lastLatencyMs: number | null = null;
  lastOk: boolean | null = null;
  /** HTTP status of the last failed probe, when it had one. */
  lastStatus: number | null = null;
  /** Why the last probe failed, secrets removed. */
  lastError: string | null = null;

  constructor(
    private readonly router: Router,
    private readonly emitter: SafeEmitter,
    private readonly secrets: SecretSet,
    readonly config: NormalizedHealthCheck,
    private readonly coordination: Coordination,
    private readonly rateLimits: NormalizedRateLimits,
  ) {}

  start(): void {
    if (this.#timer) return;
    this.#timer = setInterval(() => void this.#tick(), this.config.intervalMs);
    // A health timer must never be the reason a process stays alive.
    this.#timer.unref?.();
  }

  stop(): void {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    // A probe still running must not report, or switch traffic, after close().
    if (this.#current) {
      this.#current.dropped = true;
      this.#current.controller.abort();
    }
  }

  get running(): boolean {
    return this.#timer !== undefined;
  }

  /** A timer tick: probes unless another instance holds the cluster's probe lease. */
  async #tick(): Promise<void> {
    const timer = this.#timer;
    const probe = await this.coordination.shouldProbe().catch(() => true);
    // close() may land while the coordination answers: the tick of a stopped timer does nothing.
    if (probe && timer !== undefined && this.#timer === timer) await this.check();
  }

  check(): Promise<boolean> {
    this.#inFlight ??= this.#probe().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #probe(): Promise<boolean> {
    const endpoint = this.router.primary;
    const controller = new AbortController();
    const current = { controller, dropped: false };
    this.#current = current;
    const started = performance.now();
    const sentAt = Date.now();
    let timer: ReturnType<typeof setTimeout> | undefined;
    let error: unknown;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          controller.abort();
          reject(new ProbeTimeoutError(this.config.timeoutMs));
        }, this.config.timeoutMs);
      });
      const result = await Promise.race([Promise.resolve().then(() => this.config.probe(endpoint.client, controller.signal)), timeout]);
      if (result === false) error = new Error('probe returned false');
    } catch (caught) {
      error = caught ?? new Error('probe failed');
    } finally {
      clearTimeout(timer);
      if (this.#current === current) this.#current = undefined;
    }
    if (current.dropped) return false;
    const ok = error === undefined;
    const latencyMs = Math.round(performance.now() - started);
    this.lastCheckedAt = Date.now();
    this.lastLatencyMs = latencyMs;
    this.lastOk = ok;
    const status = statusOf(error);
    this.lastStatus = status ?? null;
    this.lastError = ok ? null : describeError(error, this.secrets);
    // The check is reported before what it causes (recovered, switched), so logs read in order.
    this.emitter.emit(
      'healthcheck',
      ok ?
        { endpoint: endpoint.name, ok, latencyMs }
      : { endpoint: endpoint.name, ok, latencyMs, error, ...(status !== undefined && { status }) },
    );
    const route = { endpoint, trial: false };
    if (ok) {
      log('health check: %s available (%dms)', endpoint.name, latencyMs);
      this.router.success(route, sentAt);
      return ok;
    }
    const verdict = rateLimitVerdict(error, this.rateLimits.longWaitMs);
    if (verdict) {
      this.router.hold(route, holdEnd(verdict, this.rateLimits.quotaCooldownMs), verdict.kind, error);
    } else if (status !== undefined && status < 500 && status !== 408) {
      // The primary answered: a 401, 403 or 404 is a key or a route to fix, not an outage, so it
      // is reported and moves no traffic (a 401 never fails over a call either).
      log('health check: %s answered %d (%s); no traffic moved', endpoint.name, status, this.lastError);
    } else {
      log('health check: %s unavailable (%s)', endpoint.name, this.lastError);
      this.router.failure(route, { error, fault: true, switching: true, local: error instanceof ProbeTimeoutError }, 'healthcheck', sentAt);
    }
    return ok;
  }
}
