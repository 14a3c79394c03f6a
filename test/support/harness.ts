import { afterEach } from 'vitest';
import { ResilientOpenAI, type ResilientOptions } from '../../src/index.js';
import type { BreakerEvent, HealthCheckEvent, RecoveredEvent, RetryEvent, SwitchedEvent } from '../../src/index.js';
import { startUpstream, type Upstream } from './upstream.js';

export const PRIMARY_KEY = 'sk-primary-SECRET-0123456789';
export const FALLBACK_KEY = 'sk-fallback-SECRET-9876543210';

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

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** Closed after the test, whatever happens in it. */
export function track<T extends { close(): unknown }>(thing: T): T {
  cleanups.push(async () => {
    await thing.close();
  });
  return thing;
}

export async function upstream(name: string): Promise<Upstream> {
  return track(await startUpstream({ name }));
}

/** A primary and a fallback upstream and a client over them; no health timer, tiny backoff. */
export async function setup(options: Partial<ResilientOptions> = {}) {
  const primary = await upstream('primary');
  const fallback = await upstream('fallback');
  const client = track(
    new ResilientOpenAI({
      apiKey: PRIMARY_KEY,
      baseURL: primary.url,
      fallback: { apiKey: FALLBACK_KEY, baseURL: fallback.url },
      healthCheck: false,
      retry: { initialDelayMs: 1, maxDelayMs: 5 },
      ...options,
    }),
  );
  return { primary, fallback, client, events: record(client) };
}

export const chat = { model: 'gpt-test', messages: [{ role: 'user' as const, content: 'hi' }] };
