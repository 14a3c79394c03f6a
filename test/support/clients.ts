/** Clients under test: the keys, a ResilientOpenAI over loopback upstreams, and what it emits. No test hooks here. */
import { ResilientOpenAI, type ResilientOptions } from '../../src/index.js';
import { localCoordination as defaultCoordination } from '../../src/coordination/local.js';
import type {
  BreakerEvent,
  Coordination,
  EventName,
  HealthCheckEvent,
  RecoveredEvent,
  ResilientEvents,
  RetryEvent,
  SwitchedEvent,
} from '../../src/index.js';

export const PRIMARY_KEY = 'sk-primary-SECRET-0123456789';
export const FALLBACK_KEY = 'sk-fallback-SECRET-9876543210';

export const chat = { model: 'gpt-test', messages: [{ role: 'user' as const, content: 'hi' }] };

/** A ResilientOpenAI with `primary` (an upstream or a base URL) as its primary; no health timer unless `options` has one. */
export function clientFor(primary: { url: string } | string, options: Partial<ResilientOptions> = {}): ResilientOpenAI {
  const baseURL = typeof primary === 'string' ? primary : primary.url;
  return new ResilientOpenAI({ apiKey: PRIMARY_KEY, baseURL, healthCheck: false, ...options });
}

/** Fallback options for an upstream, with the fallback key. */
export const fallbackOn = (upstream: { url: string }, apiKey = FALLBACK_KEY) => ({ apiKey, baseURL: upstream.url });

export interface Recorded {
  switched: SwitchedEvent[];
  recovered: RecoveredEvent[];
  retry: RetryEvent[];
  healthcheck: HealthCheckEvent[];
  breaker: BreakerEvent[];
}

export function record(client: ResilientOpenAI): Recorded {
  const events: Recorded = { switched: [], recovered: [], retry: [], healthcheck: [], breaker: [] };
  client.on('switched', (e) => events.switched.push(e));
  client.on('recovered', (e) => events.recovered.push(e));
  client.on('retry', (e) => events.retry.push(e));
  client.on('healthcheck', (e) => events.healthcheck.push(e));
  client.on('breaker', (e) => events.breaker.push(e));
  return events;
}

/** The next `event` the client emits: wait for what must happen instead of sleeping. */
export function nextEvent<E extends EventName>(client: ResilientOpenAI, event: E): Promise<Parameters<ResilientEvents[E]>[0]> {
  return new Promise((resolve) => {
    const listener = (payload: Parameters<ResilientEvents[E]>[0]) => resolve(payload);
    client.once(event, listener);
  });
}

/** A coordination that shares nothing, as the default one; `over` replaces some of its methods (to count or break them). */
export function localCoordination(over: Partial<Coordination> = {}): Coordination {
  return { ...defaultCoordination('test-instance'), ...over };
}
