import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { getAttemptErrors, ResilientOpenAI } from '../src/index.js';
import { chat, FALLBACK_KEY, PRIMARY_KEY, setup, track } from './support/harness.js';

const KEYS = [PRIMARY_KEY, FALLBACK_KEY];
function expectNoKey(text: string) {
  for (const key of KEYS) expect(text).not.toContain(key);
  expect(text).not.toContain('SECRET');
}

function serialize(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => (v instanceof Error ? { ...v, message: v.message, name: v.name, stack: v.stack } : v));
}

describe('secrets never leak', () => {
  it('debug logs: every switch, retry and recovery is logged, never a key (even one a proxy echoes)', () => {
    const script = fileURLToPath(new URL('./fixtures/debug-scenario.ts', import.meta.url));
    const result = spawnSync(process.execPath, ['--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 30_000,
      env: {
        ...process.env,
        DEBUG: 'resilient-openai',
        DEBUG_COLORS: 'no',
        TEST_PRIMARY_KEY: PRIMARY_KEY,
        TEST_FALLBACK_KEY: FALLBACK_KEY,
      },
    });
    expect(result.status, result.stderr).toBe(0);
    const logs = result.stderr;
    expect(logs).toMatch(/primary failed \(502\); failing over/);
    expect(logs).toMatch(/primary unavailable, using fallback/);
    expect(logs).toMatch(/retrying on fallback in \d+ms/);
    expect(logs).toMatch(/health check: primary available/);
    expect(logs).toMatch(/primary available again after \d+ms/);
    expect(logs).toMatch(/health check: primary unavailable/);
    expect(logs).toMatch(/a switched listener threw Error; ignored/);
    expect(logs).toContain('[redacted]');
    expectNoKey(logs);
    expectNoKey(result.stdout);
    expect(JSON.parse(result.stdout).endpoints[0].lastError).toContain('[redacted]');
  });

  it('events, status and thrown errors carry no key', async () => {
    const { client, primary, fallback, events } = await setup();
    primary.setFault({ kind: 'bad-gateway' });
    fallback.queue({ kind: 'status', status: 500 });
    await client.chat.completions.create(chat);
    fallback.setFault({ kind: 'reset' });
    const error = await client.chat.completions.create(chat).catch((e: unknown) => e);
    await client.checkPrimary();
    expect(events.switched.length + events.retry.length + events.healthcheck.length).toBeGreaterThan(3);
    expectNoKey(serialize(events));
    expectNoKey(serialize(client.getStatus()));
    expectNoKey(serialize(error));
    expectNoKey(serialize(getAttemptErrors(error)));
    expectNoKey(String(error));
  });

  it('status redacts userinfo and token query parameters of base URLs', () => {
    const client = track(
      new ResilientOpenAI({
        apiKey: PRIMARY_KEY,
        baseURL: 'https://user:SECRETpass@proxy.example/v1?token=SECRETtoken&region=eu',
        fallback: { apiKey: FALLBACK_KEY, baseURL: 'https://gw.example/v1?api-key=SECRETkey' },
        healthCheck: false,
      }),
    );
    const status = client.getStatus();
    expect(status.mainApi).toBe('https://***:***@proxy.example/v1?token=***&region=eu');
    expect(status.fallbackApi).toBe('https://gw.example/v1?api-key=***');
    expectNoKey(serialize(status));
  });
});
