/**
 * The scenario that breaks conversations today: a response is created (and stored) on the
 * fallback during an outage; the primary recovers; the conversation continues. The follow-up
 * and the retrieval go to the fallback, which has the id; the primary gets nothing.
 */
import { describe, expect, it } from 'vitest';
import { storedSetup } from '../support/harness.js';

describe('a conversation that crossed a failover continues where it was stored', () => {
  it('created on the fallback during the outage, continued there after the primary recovered', async () => {
    const { client, primary, fallback, events } = await storedSetup();
    primary.setFault({ kind: 'bad-gateway' });
    const first = await client.responses.create({ model: 'gpt-test', input: 'hello' });
    expect(first.id).toBe(fallback.stored!.ids('response')[0]);
    expect(client.activeEndpoint).toBe('fallback');

    primary.setFault(null);
    // Two passing probes close the primary's breaker (breaker.successThreshold).
    expect(await client.checkPrimary()).toBe(true);
    expect(await client.checkPrimary()).toBe(true);
    expect(client.activeEndpoint).toBe('primary');
    expect(events.switched.map((e) => e.reason)).toEqual(['error', 'recovered']);
    primary.reset();
    const before = fallback.count('/responses');

    const next = await client.responses.create({ model: 'gpt-test', input: 'and then?', previous_response_id: first.id });
    const again = await client.responses.retrieve(first.id);
    expect(next.output_text).toBe('hello from fallback');
    expect(again.id).toBe(first.id);
    // The follow-up's own id lives on the fallback too, and was remembered there.
    expect(fallback.stored!.ids('response')).toContain(next.id);
    expect(fallback.count('/responses')).toBe(before + 1);
    expect(fallback.count(`/responses/${first.id}`)).toBe(1);
    expect(primary.count()).toBe(0);
    // New conversations go to the primary again.
    expect((await client.responses.create({ model: 'gpt-test', input: 'new' })).output_text).toBe('hello from primary');
    expect(client.getStatus().affinity).toMatchObject({ enabled: true, size: expect.any(Number) });
    expect(client.getStatus().affinity.size).toBeGreaterThanOrEqual(4);
  });

  it('with affinity: false, the follow-up goes to the primary, which does not know the id (the failure this fixes)', async () => {
    const { client, primary } = await storedSetup({ affinity: false });
    primary.setFault({ kind: 'bad-gateway' });
    const first = await client.responses.create({ model: 'gpt-test', input: 'hello' });
    primary.setFault(null);
    await client.checkPrimary();
    await client.checkPrimary();
    expect(client.activeEndpoint).toBe('primary');
    await expect(client.responses.create({ model: 'gpt-test', input: 'more', previous_response_id: first.id })).rejects.toMatchObject({
      status: 404,
      code: 'previous_response_not_found',
    });
    expect(client.getStatus().affinity).toEqual({ enabled: false, size: 0, maxIds: 0, ttlMs: 0 });
  });
});
