import type { HealthMonitor } from './health.js';
import type { FailoverState } from './state.js';

export interface EndpointStatus {
  name: string;
  /** Base URL with userinfo and token-like query values redacted. */
  baseURL: string;
  available: boolean;
  active: boolean;
  /** ISO time the endpoint was marked down, or null while it is up. */
  downSince: string | null;
  /** Last failure that marked it down, secrets removed. */
  lastError: string | null;
}

/** A JSON-ready snapshot; the first three fields are the classic `/api/status` shape. */
export interface ResilientStatus {
  mainApi: string;
  fallbackApi: string | null;
  isMainApiAvailable: boolean;
  activeEndpoint: string;
  /** ISO time of the last health check of the primary, or null before the first. */
  lastCheckedAt: string | null;
  lastCheckLatencyMs: number | null;
  healthCheck: { enabled: boolean; intervalMs: number };
  endpoints: EndpointStatus[];
  closed: boolean;
}

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function snapshot(state: FailoverState, health: HealthMonitor, closed: boolean): ResilientStatus {
  const active = state.active;
  return {
    mainApi: state.primary.url,
    fallbackApi: state.endpoints[1]?.url ?? null,
    isMainApiAvailable: state.primary.available,
    activeEndpoint: active.name,
    lastCheckedAt: iso(health.lastCheckedAt),
    lastCheckLatencyMs: health.lastLatencyMs,
    healthCheck: { enabled: health.running, intervalMs: health.config.intervalMs },
    endpoints: state.endpoints.map((e) => ({
      name: e.name,
      baseURL: e.url,
      available: e.available,
      active: e === active,
      downSince: iso(e.downSince),
      lastError: e.lastError,
    })),
    closed,
  };
}
