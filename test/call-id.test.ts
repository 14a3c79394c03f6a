import createDebug from 'debug';
import { format } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { getAttemptErrors } from '../src/index.js';
import { chat, setup } from './support/harness.js';

// Debug output is captured in-process: the library's logger is the `debug` package's.
const lines: string[] = [];
const originalLog = createDebug.log;
afterEach(() => {
  createDebug.disable();
  createDebug.log = originalLog;
  lines.length = 0;
});
function captureLogs(): void {
  createDebug.enable('resilient-openai');
  createDebug.log = (...args: unknown[]) => void lines.push(format(...args));
}

describe('one call, one id', () => {
  it('retry names the failed endpoint and the next; switched, breaker and getAttemptErrors carry the same call id', async () => {
    captureLogs();
    const { client, primary, fallback, events } = await setup({ retry: { initialDelayMs: 1, maxDelayMs: 1 } });
    primary.queue({ kind: 'status', status: 500 }, { kind: 'bad-gateway' });
    await client.chat.completions.create(chat);
    expect(events.retry.map((e) => [e.from, e.endpoint])).toEqual([
      ['primary', 'primary'],
      ['primary', 'fallback'],
    ]);
    const id = events.retry[0]!.callId;
    expect(id).toMatch(/^log_[0-9a-f]{6}$/);
    expect(events.retry[1]!.callId).toBe(id);
    expect(events.switched.map((e) => e.callId)).toEqual([id]);
    expect(events.breaker.map((e) => e.callId)).toEqual([id]);
    expect(lines.filter((line) => line.includes(`[${id}]`)).join('\n')).toMatch(/failing over/);

    // Another call has another id, and a failed call's attempts carry its id (traffic is on the fallback now).
    fallback.setFault({ kind: 'status', status: 400 });
    const error = await client.chat.completions.create(chat).catch((e: unknown) => e);
    const attempts = getAttemptErrors(error);
    expect(attempts.map((a) => a.endpoint)).toEqual(['fallback']);
    expect(attempts.every((a) => a.callId && a.callId !== id)).toBe(true);
  });

  it('a probe is no call: the events it causes carry no call id', async () => {
    const { client, primary, events } = await setup();
    primary.setFault({ kind: 'reset' });
    expect(await client.checkPrimary()).toBe(false);
    expect(events.breaker).toHaveLength(1);
    expect(events.breaker[0]!.callId).toBeUndefined();
    expect(events.switched[0]!.callId).toBeUndefined();
  });
});
