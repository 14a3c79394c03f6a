import { APIUserAbortError } from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { DEFAULTS, type BreakerConfig } from '../src/options/defaults.js';
import { Breaker } from '../src/routing/breaker.js';
import { chat, setup } from './support/harness.js';
import { gate } from './support/upstream.js';

afterEach(() => {
  vi.useRealTimers();
});

const config = (over: Partial<BreakerConfig> = {}): BreakerConfig => ({ ...DEFAULTS.breaker, ...over });

describe('Breaker (pure state machine, time passed in)', () => {
  it('opens after failureThreshold consecutive switching failures; a success resets the count', () => {
    const b = new Breaker(config({ failureThreshold: 3 }));
    expect(b.failure(0, true)).toBeUndefined();
    expect(b.failure(1, true)).toBeUndefined();
    b.success(2);
    expect(b.failure(3, true)).toBeUndefined();
    expect(b.failure(4, true)).toBeUndefined();
    expect(b.failure(5, true)).toBe('open');
    expect(b.admit(6)).toBe('no');
  });

  it('non-switching faults (a 500) feed only the failure-rate rule', () => {
    const b = new Breaker(config({ failureThreshold: 1, failureRate: 0.5, minimumCalls: 4, windowMs: 10_000 }));
    expect(b.failure(0, false)).toBeUndefined();
    b.success(1);
    b.success(2);
    expect(b.state).toBe('closed');
    expect(b.failure(3, false)).toBe('open'); // 2 faults in 4 calls
  });

  it('the rate window forgets old calls', () => {
    const b = new Breaker(config({ failureRate: 0.5, minimumCalls: 2, windowMs: 2000 }));
    b.failure(0, false);
    expect(b.failure(5000, false)).toBeUndefined(); // the first fault left the window
    expect(b.failure(5500, false)).toBe('open');
  });

  it('after the cooldown: bounded trials while half-open, closes after successThreshold successes', () => {
    const b = new Breaker(config({ cooldownMs: 1000, halfOpenMaxCalls: 2, successThreshold: 2 }));
    b.failure(0, true);
    expect(b.admit(999)).toBe('no');
    expect(b.admit(1000)).toBe('trial');
    expect(b.state).toBe('half-open');
    expect(b.admit(1001)).toBe('trial');
    expect(b.admit(1002)).toBe('no'); // both slots taken
    b.release();
    expect(b.success(1003)).toBe('half-open');
    expect(b.admit(1004)).toBe('trial');
    b.release();
    b.release();
    expect(b.success(1005)).toBe('closed');
    expect(b.admit(1006)).toBe('yes');
  });

  it('a failed trial re-opens and restarts the cooldown', () => {
    const b = new Breaker(config({ cooldownMs: 1000 }));
    b.failure(0, true);
    expect(b.admit(1000)).toBe('trial');
    b.release();
    expect(b.failure(1001, true)).toBe('open');
    expect(b.admit(1500)).toBe('no');
    expect(b.admit(2001)).toBe('trial');
  });

  it('answers to requests sent before it opened are stale: they neither close nor re-open it', () => {
    const b = new Breaker(config({ successThreshold: 1, cooldownMs: 1000 }));
    b.failure(100, true);
    expect(b.success(150, 50)).toBeUndefined(); // sent at 50, before the opening at 100
    expect(b.state).toBe('open');
    expect(b.failure(900, true, 60)).toBeUndefined();
    expect(b.admit(1100)).toBe('trial'); // the cooldown still counts from 100
    b.release();
    expect(b.success(1200, 1100)).toBe('closed');
  });

  it('failures of requests sent before it last closed do not re-open it', () => {
    const b = new Breaker(config({ successThreshold: 1, cooldownMs: 1000 }));
    b.failure(100, true);
    expect(b.success(200, 150)).toBe('closed');
    expect(b.failure(250, true, 120)).toBeUndefined(); // sent at 120, before the close at 200
    expect(b.state).toBe('closed');
    expect(b.failure(300, true, 260)).toBe('open');
  });

  it('successes while open (health probes) count toward closing: hysteresis', () => {
    const b = new Breaker(config({ successThreshold: 3 }));
    b.failure(0, true);
    expect(b.success(1)).toBe('half-open');
    expect(b.success(2)).toBe('half-open');
    b.failure(3, true); // flapping: back to open, count restarts
    expect(b.success(4)).toBe('half-open');
    expect(b.success(5)).toBe('half-open');
    expect(b.success(6)).toBe('closed');
  });
});

describe('breakers in the client', () => {
  it('half-open lets a bounded number of trial calls reach the primary; the rest go to the fallback', async () => {
    const cooldownMs = 10_000;
    const { client, primary, fallback, events } = await setup({ breaker: { cooldownMs, halfOpenMaxCalls: 2, successThreshold: 2 } });
    // The breaker reads Date.now(): fake time passes the cooldown without waiting for it.
    vi.useFakeTimers({ toFake: ['Date'] });
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create(chat);
    primary.setFault(null);
    vi.advanceTimersByTime(cooldownMs - 1);
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from fallback'); // still cooling down
    expect(primary.count()).toBe(1);
    vi.advanceTimersByTime(1);

    // Healthy again, but every trial stays in flight until the gate opens.
    const trials = gate();
    primary.setFault({ kind: 'held', until: trials.opened });
    const before = { primary: primary.count(), fallback: fallback.count() };
    let answered = 0;
    const answered28 = gate();
    const calls = Array.from({ length: 30 }, () =>
      client.chat.completions.create(chat).finally(() => ++answered === 28 && answered28.open()),
    );
    // Either 28 calls are answered, or a third call reached the primary (and the checks below fail).
    await Promise.race([answered28.opened, primary.received(before.primary + 3)]);
    await primary.received(before.primary + 2);
    // All 30 calls are placed: 28 answered by the fallback, 2 held on the primary, so no third trial can follow.
    expect(fallback.count() - before.fallback).toBe(28);
    expect(primary.count() - before.primary).toBe(2);
    expect(client.getStatus().endpoints[0]!.state).toBe('half-open');
    trials.open();
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.choices[0]!.message.content === 'hello from primary')).toHaveLength(2);
    expect(fallback.count() - before.fallback).toBe(28);
    // Two successful trials close the breaker: traffic is back on the primary.
    expect(client.activeEndpoint).toBe('primary');
    expect(events.switched.map((e) => `${e.from}->${e.to}:${e.reason}`)).toEqual([
      'primary->fallback:error',
      'fallback->primary:recovered',
    ]);
    expect(events.breaker.map((e) => `${e.endpoint}:${e.state}`)).toEqual(['primary:open', 'primary:half-open', 'primary:closed']);
  });

  it('slow successes of calls sent before the outage do not switch traffic back', async () => {
    const { client, primary, events } = await setup({ breaker: { successThreshold: 1 } });
    vi.useFakeTimers({ toFake: ['Date'] });
    const slow = gate();
    primary.setFault({ kind: 'held', until: slow.opened });
    const sent = Array.from({ length: 5 }, () => client.chat.completions.create(chat));
    await primary.received(5);
    vi.advanceTimersByTime(1000); // the outage starts after they went out
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create(chat); // opens the primary's breaker
    expect(client.activeEndpoint).toBe('fallback');
    slow.open();
    const answers = await Promise.all(sent);
    expect(answers.map((a) => a.choices[0]!.message.content)).toEqual(Array.from({ length: 5 }, () => 'hello from primary'));
    expect(client.activeEndpoint).toBe('fallback');
    expect(events.switched).toHaveLength(1);
    // A success sent after the opening does count: with successThreshold 1 it switches traffic back.
    primary.setFault(null);
    expect(await client.checkPrimary()).toBe(true);
    expect(client.activeEndpoint).toBe('primary');
    expect(events.switched.map((e) => e.reason)).toEqual(['error', 'recovered']);
  });

  it('a flapping primary does not bounce traffic: one switch away, none back', async () => {
    const { client, primary, events } = await setup({ breaker: { successThreshold: 3 } });
    primary.setFault({ kind: 'bad-gateway' });
    await client.chat.completions.create(chat);
    for (let i = 0; i < 6; i++) {
      primary.setFault(i % 2 ? { kind: 'bad-gateway' } : null);
      await client.checkPrimary();
      await client.chat.completions.create(chat);
    }
    expect(events.switched).toHaveLength(1);
    expect(client.activeEndpoint).toBe('fallback');
    expect(events.healthcheck.map((e) => e.ok)).toEqual([true, false, true, false, true, false]);
  });

  it('with every endpoint open, calls still go out, to the endpoint that failed longest ago', async () => {
    const { client, primary, fallback } = await setup({ maxRetries: 0 });
    // Fake time: each failure is a second after the one before (within the breakers' 30 s cooldown).
    vi.useFakeTimers({ toFake: ['Date'] });
    primary.setFault({ kind: 'bad-gateway' });
    await expect(client.chat.completions.create(chat)).rejects.toMatchObject({ status: 502 });
    vi.advanceTimersByTime(1000);
    fallback.setFault({ kind: 'bad-gateway' });
    await expect(client.chat.completions.create(chat)).rejects.toMatchObject({ status: 502 });
    expect(client.getStatus().endpoints.map((e) => e.state)).toEqual(['open', 'open']);
    // The primary failed first, so it gets the call, and fails again.
    vi.advanceTimersByTime(1000);
    await expect(client.chat.completions.create(chat)).rejects.toMatchObject({ status: 502 });
    expect([primary.count(), fallback.count()]).toEqual([2, 1]);
    // Now the fallback failed longest ago.
    vi.advanceTimersByTime(1000);
    fallback.setFault(null);
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from fallback');
    expect([primary.count(), fallback.count()]).toEqual([2, 2]);
    // Its success is a step toward closing its breaker.
    expect(client.getStatus().endpoints[1]!.state).toBe('half-open');
  });

  it('status shows each endpoint: state, consecutive failures, last error, last success and latency', async () => {
    const { client, primary } = await setup({ breaker: { failureThreshold: 3 } });
    await client.chat.completions.create(chat);
    primary.queue({ kind: 'status', status: 503 });
    await client.chat.completions.create(chat);
    const [p, f] = client.getStatus().endpoints;
    expect(p).toMatchObject({ name: 'primary', state: 'closed', available: true, active: true, consecutiveFailures: 1 });
    expect(p!.lastError).toMatch(/^503 /);
    expect(p!.lastSuccessAt).toMatch(/T/);
    expect(p!.latencyMs).toBeGreaterThanOrEqual(0);
    expect(f).toMatchObject({ name: 'fallback', state: 'closed', consecutiveFailures: 0, lastError: null });
    // failureThreshold 3: one 503 moves this call on, but not the traffic.
    expect(client.activeEndpoint).toBe('primary');
  });

  it('4xx answers and aborts do not count against the breaker', async () => {
    const { client, primary } = await setup({ maxRetries: 0, breaker: { failureRate: 0.1, minimumCalls: 2 } });
    primary.setFault({ kind: 'status', status: 400 });
    for (let i = 0; i < 5; i++) await expect(client.chat.completions.create(chat)).rejects.toMatchObject({ status: 400 });
    expect(client.getStatus().endpoints[0]).toMatchObject({ state: 'closed', consecutiveFailures: 0, lastError: null });
    primary.setFault({ kind: 'hang' });
    for (let i = 1; i <= 5; i++) {
      const controller = new AbortController();
      const call = client.chat.completions.create(chat, { signal: controller.signal });
      await primary.received(5 + i); // in flight on the primary
      controller.abort();
      await expect(call).rejects.toBeInstanceOf(APIUserAbortError);
      expect(client.getStatus().endpoints[0]).toMatchObject({ state: 'closed', consecutiveFailures: 0, lastError: null });
    }
    // The same rule opens the breaker on provider faults: 2 in 12 calls is above 10%.
    primary.setFault({ kind: 'status', status: 500 });
    for (let i = 0; i < 2; i++) await expect(client.chat.completions.create(chat)).rejects.toMatchObject({ status: 500 });
    expect(client.getStatus().endpoints[0]!.state).toBe('open');
  });
});
