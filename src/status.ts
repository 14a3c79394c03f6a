import type { AffinityStatus } from './affinity/homes.js';
import type { CoordinationStatus } from './options/contracts.js';
import type { HealthMonitor } from './health/health-monitor.js';
import type { BreakerState } from './routing/breaker.js';
import type { Router } from './routing/router.js';

/** One endpoint in {@link ResilientStatus}. */
export interface EndpointStatus {
  /** Endpoint name, e.g. `'primary'`. */
  name: string;
  /** Base URL with userinfo and token-like query values redacted. */
  baseURL: string;
  /** Breaker state: `'open'` skips the endpoint, `'half-open'` lets trial calls through. */
  state: BreakerState;
  /** `state === 'closed'`. */
  available: boolean;
  /** Whether it gets traffic now. */
  active: boolean;
  /** Failover-class failures in a row (reset by a success). */
  consecutiveFailures: number;
  /** ISO time the breaker opened, or null while it is closed. */
  downSince: string | null;
  /** ISO time until which the endpoint is held out of traffic (a quota or a long rate-limit wait), or null. */
  heldUntil: string | null;
  /** Why it is held: `'quota'` (a 429 that waiting does not heal) or `'rate-limit'` (a long wait asked for). */
  heldFor: 'quota' | 'rate-limit' | null;
  /** Last provider fault, secrets removed. */
  lastError: string | null;
  /** ISO time of the last provider fault. */
  lastFailureAt: string | null;
  /** ISO time of the last successful call or probe. */
  lastSuccessAt: string | null;
  /** Time to response of the last successful call or probe. */
  latencyMs: number | null;
}

/** A JSON-ready snapshot; the first three fields are the classic `/api/status` shape. */
export interface ResilientStatus {
  /** The primary's base URL, redacted. */
  mainApi: string;
  /** The first fallback's base URL, redacted, or null without fallback. */
  fallbackApi: string | null;
  /** Whether the primary's breaker is closed. */
  isMainApiAvailable: boolean;
  /** Name of the endpoint that gets traffic now. */
  activeEndpoint: string;
  /** ISO time of the last health check of the primary, or null before the first. */
  lastCheckedAt: string | null;
  /** How long the last health check took. */
  lastCheckLatencyMs: number | null;
  /** Whether the last health check passed, or null before the first. */
  lastCheckOk: boolean | null;
  /** HTTP status of the last failed health check, when it had one (a 401 there is a key to fix, not an outage). */
  lastCheckStatus: number | null;
  /** Why the last health check failed, secrets removed, or null. */
  lastCheckError: string | null;
  /** Whether the health timer runs, and its interval. */
  healthCheck: {
    /** Whether the timer runs, or starts with the first request (false after `close()` or with `healthCheck: false`). */
    enabled: boolean;
    /** Time between probes. */
    intervalMs: number;
  };
  /** Every endpoint, in failover order. */
  endpoints: EndpointStatus[];
  /** Whether `close()` was called. */
  closed: boolean;
  /** Whether breaker state is shared with other processes, and who probes. */
  coordination: CoordinationStatus;
  /** The ids of stored objects remembered with the endpoint that created them. */
  affinity: AffinityStatus;
}

const iso = (ms: number | null) => (ms === null || ms === 0 ? null : new Date(ms).toISOString());

export function snapshot(
  router: Router,
  health: HealthMonitor,
  /** The timer is wanted and not closed: it runs, or starts with the first request. */
  healthTimer: boolean,
  closed: boolean,
  coordination: CoordinationStatus,
  affinity: AffinityStatus,
): ResilientStatus {
  const active = router.active;
  return {
    mainApi: router.primary.url,
    fallbackApi: router.endpoints[1]?.url ?? null,
    isMainApiAvailable: router.primary.breaker.state === 'closed',
    activeEndpoint: active.name,
    lastCheckedAt: iso(health.lastCheckedAt),
    lastCheckLatencyMs: health.lastLatencyMs,
    lastCheckOk: health.lastOk,
    lastCheckStatus: health.lastStatus,
    lastCheckError: health.lastError,
    healthCheck: { enabled: healthTimer, intervalMs: health.config.intervalMs },
    endpoints: router.endpoints.map((e) => ({
      name: e.name,
      baseURL: e.url,
      state: e.breaker.state,
      available: e.breaker.state === 'closed',
      active: e === active,
      consecutiveFailures: e.breaker.consecutiveFailures,
      downSince: iso(e.downSince),
      heldUntil: e.heldFor && e.breaker.heldUntil > Date.now() ? iso(e.breaker.heldUntil) : null,
      heldFor: e.heldFor && e.breaker.heldUntil > Date.now() ? e.heldFor : null,
      lastError: e.lastError,
      lastFailureAt: iso(e.lastFailureAt),
      lastSuccessAt: iso(e.lastSuccessAt),
      latencyMs: e.latencyMs,
    })),
    closed,
    coordination,
    affinity,
  };
}
