import { describe, expect, it } from 'vitest';
import { chat, setup } from './support/harness.js';

describe('health probes judge like calls do', () => {
  it('a probe answered 401 is reported (ok: false, status 401, in status) but moves no traffic', async () => {
    const { client, primary, events } = await setup();
    primary.queue({ kind: 'status', status: 401 });
    expect(await client.checkPrimary()).toBe(false);
    expect(events.healthcheck.map((e) => [e.ok, e.status])).toEqual([[false, 401]]);
    expect(events.breaker).toEqual([]);
    expect(events.switched).toEqual([]);
    expect(client.activeEndpoint).toBe('primary');
    expect(client.getStatus()).toMatchObject({ isMainApiAvailable: true, lastCheckOk: false, lastCheckStatus: 401 });
    expect(client.getStatus().lastCheckError).toMatch(/401/);
    expect((await client.chat.completions.create(chat)).choices[0]!.message.content).toBe('hello from primary');
  });

  it('positive control: a probe answered 503 marks the primary down and switches', async () => {
    const { client, primary, events } = await setup();
    primary.queue({ kind: 'status', status: 503 });
    expect(await client.checkPrimary()).toBe(false);
    expect(events.switched.map((e) => e.reason)).toEqual(['healthcheck']);
    expect(client.getStatus()).toMatchObject({ isMainApiAvailable: false, lastCheckStatus: 503 });
  });

  it('a probe answered 429 insufficient_quota holds the primary out, as a call would', async () => {
    const { client, primary, events } = await setup();
    primary.queue({
      kind: 'status',
      status: 429,
      body: JSON.stringify({ error: { message: 'quota', type: 'insufficient_quota', code: 'insufficient_quota' } }),
    });
    expect(await client.checkPrimary()).toBe(false);
    expect(events.switched.map((e) => e.reason)).toEqual(['quota']);
    expect(client.getStatus().endpoints[0]!.heldFor).toBe('quota');
  });
});
