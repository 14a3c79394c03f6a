/** Per-test resources: whatever `track()` is given is closed after the test, whatever happens in it. */
import { afterEach } from 'vitest';
import type { FallbackOptions, ResilientOptions } from '../../src/index.js';
import { clientFor, fallbackOn, record } from './clients.js';
import { startUpstream, type Upstream } from './upstream.js';

export { chat, clientFor, fallbackOn, FALLBACK_KEY, localCoordination, nextEvent, PRIMARY_KEY, record } from './clients.js';

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

export async function upstream(name: string, options: { stored?: boolean } = {}): Promise<Upstream> {
  return track(await startUpstream({ name, ...options }));
}

/** As {@link setup}, over upstreams that keep stored state (responses, files, ...) as the real API does. */
export async function storedSetup(options: Partial<ResilientOptions> = {}) {
  const primary = await upstream('primary', { stored: true });
  const fallback = await upstream('fallback', { stored: true });
  const retry = { initialDelayMs: 1, maxDelayMs: 5 };
  const client = track(clientFor(primary, { fallback: fallbackOn(fallback), retry, ...options }));
  return { primary, fallback, client, events: record(client) };
}

/**
 * A primary and a fallback upstream and a client over them; no health timer, tiny backoff.
 * `fallbackOptions` go to the fallback endpoint, e.g. its own `timeout`.
 */
export async function setup(options: Partial<ResilientOptions> = {}, fallbackOptions: Partial<FallbackOptions> = {}) {
  const primary = await upstream('primary');
  const fallback = await upstream('fallback');
  const retry = { initialDelayMs: 1, maxDelayMs: 5 };
  const client = track(clientFor(primary, { fallback: { ...fallbackOn(fallback), ...fallbackOptions }, retry, ...options }));
  return { primary, fallback, client, events: record(client) };
}
