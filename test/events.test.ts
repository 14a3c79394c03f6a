import { afterEach, describe, expect, it, vi } from 'vitest';
import { chat, setup } from './support/harness.js';

afterEach(() => {
  vi.useRealTimers();
});

describe('events', () => {
  it('a listener that throws, or rejects, does not break the request or the other listeners', async () => {
    const { client, primary } = await setup();
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const seen: string[] = [];
      const returned: Promise<unknown>[] = [];
      client.on('switched', () => {
        throw new Error('boom');
      });
      client.on('switched', () => {
        const rejection = Promise.reject(new Error('async boom'));
        returned.push(rejection);
        return rejection;
      });
      client.on('switched', (e) => seen.push(e.to));
      primary.setFault({ kind: 'bad-gateway' });
      const completion = await client.chat.completions.create(chat);
      expect(completion.choices[0]!.message.content).toBe('hello from fallback');
      expect(seen).toEqual(['fallback']);
      expect(returned).toHaveLength(1); // the rejecting listener ran
      // Node reports a rejection nobody handled once the microtasks of the turn that made it have
      // run: by the next turn of the event loop it would be here.
      await new Promise((r) => setImmediate(r));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('once() fires once; off() removes one listener or all of an event', async () => {
    const { client, primary } = await setup({ breaker: { successThreshold: 1 } });
    const once: string[] = [];
    const kept: string[] = [];
    const removed: string[] = [];
    const remove = (e: { to: string }) => removed.push(e.to);
    client.once('switched', (e) => once.push(e.to));
    client.on('switched', (e) => kept.push(e.to));
    client.on('switched', remove).off('switched', remove);
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create(chat);
    primary.setFault(null);
    await client.checkPrimary();
    expect(once).toEqual(['fallback']);
    expect(kept).toEqual(['fallback', 'primary']);
    expect(removed).toEqual([]);
    expect(client.listenerCount('switched')).toBe(2); // 'kept' and the harness's recorder
    client.off('switched');
    expect(client.listenerCount('switched')).toBe(0);
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create(chat);
    expect(kept).toHaveLength(2);
  });

  it('recovered reports the downtime of the primary', async () => {
    const { client, primary, events } = await setup({ breaker: { successThreshold: 1 } });
    // Fake Date: the downtime is exactly the time that passed.
    vi.useFakeTimers({ toFake: ['Date'] });
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create(chat);
    vi.advanceTimersByTime(12_345);
    primary.setFault(null);
    await client.checkPrimary();
    expect(events.recovered).toEqual([{ endpoint: 'primary', downtimeMs: 12_345 }]);
  });
});
