import type { ClientOptions } from 'openai';
import type { Core } from '../call/types.js';
import type { Coordination } from '../options/contracts.js';
import { HealthMonitor } from '../health/health-monitor.js';
import { SafeEmitter } from '../observe/events.js';
import type { ResilientOptions } from '../options/types.js';
import { Homes } from '../affinity/homes.js';
import { HomeStore } from '../affinity/store.js';
import { Telemetry } from '../observe/telemetry/telemetry.js';
import { Router } from '../routing/router.js';
import { normalizeOptions } from './normalize.js';
import { sha256Hex } from './sha256.js';

/** State shared by a client and every client derived from it with `withOptions()`. */
export interface Shared {
  core: Core;
  health: HealthMonitor;
  coordination: Coordination;
  /** Set by the first `close()`: the coordination shutting down. */
  closing?: Promise<void>;
  /** Starts the health timer and the coordination, once (see {@link startShared}). */
  started: boolean;
  /** Whether the health timer is wanted (`healthCheck` is not `false`). */
  timer: boolean;
}

/** The same endpoint has the same id in every process; the id carries no secret (URL redacted). */
function endpointId(name: string, redactedURL: string): string {
  return sha256Hex(`${name}\n${redactedURL}`).slice(0, 16);
}

/**
 * Builds everything a new client owns from its options: the router over its endpoints, the
 * events, the health timer (started) and the coordination (started). Returns the primary's client
 * options too: `ResilientOpenAI` passes them to its `OpenAI` base.
 */
export function createShared(options: ResilientOptions | undefined): { clientOptions: ClientOptions; shared: Shared } {
  const normalized = normalizeOptions(options);
  const emitter = new SafeEmitter();
  const { coordination, secrets, affinity } = normalized;
  const router = new Router(normalized.endpoints, normalized.breaker, emitter, secrets, coordination);
  const core: Core = {
    router,
    emitter,
    secrets,
    retry: normalized.retry,
    failover: normalized.failover,
    timeouts: normalized.timeouts,
    rateLimits: normalized.rateLimits,
    resume: normalized.resume,
    telemetry: new Telemetry(normalized.telemetry, () => router.endpoints.map((e) => ({ endpoint: e.name, state: e.breaker.state }))),
    homes: new Homes(affinity ? new HomeStore(affinity.maxIds, affinity.ttlMs) : undefined, router, coordination),
  };
  emitter.observer = core.telemetry.observe;
  const health = new HealthMonitor(router, emitter, secrets, normalized.healthCheck, coordination, normalized.rateLimits);
  const shared = { core, health, coordination, started: false, timer: normalized.healthCheck.timer };
  return { clientOptions: normalized.primaryOptions, shared };
}

/**
 * Starts what runs in the background: the coordination (connections, re-reads) and the health
 * timer. Not at construction: a client built at module scope must do no I/O and set no timer
 * (Cloudflare Workers forbid both there, and a timer set there never fires in a later request).
 * The first request or `checkPrimary()` starts them; after `close()`, nothing starts.
 */
export function startShared(shared: Shared): void {
  if (shared.started || shared.closing) return;
  shared.started = true;
  const { router } = shared.core;
  shared.coordination.start(
    router.endpoints.map((e) => ({ name: e.name, id: endpointId(e.name, e.url) })),
    (change) => router.applyRemote(change),
  );
  if (shared.timer) shared.health.start();
}
