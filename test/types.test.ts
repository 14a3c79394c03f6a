import OpenAI, { APIConnectionError } from 'openai';
import { describe, expect, expectTypeOf, it } from 'vitest';
import ResilientDefault, {
  IncompleteStreamError,
  ResilientOpenAI,
  withFailover,
  type BreakerEvent,
  createRetryPolicy,
  getAttemptErrors,
  type AttemptFailure,
  type HealthCheckEvent,
  type RecoveredEvent,
  type ResilientStatus,
  type RetryEvent,
  type RetryPolicy,
  type SwitchedEvent,
} from '../src/index.js';

// Checked by `tsc --noEmit` (npm run typecheck); the runtime part only proves the file loads.
describe('public types', () => {
  it('ResilientOpenAI is assignable to OpenAI and keeps typed resources', () => {
    const client = new ResilientOpenAI({ apiKey: 'sk-types-123456', healthCheck: false });
    const asOpenAI: OpenAI = client;
    expectTypeOf(client).toMatchTypeOf<OpenAI>();
    expectTypeOf<typeof asOpenAI.chat.completions.create>().toBeFunction();
    expect(asOpenAI).toBe(client);
    // Never called: only its type matters (a call would go to the network).
    const create = () => client.chat.completions.create({ model: 'm', messages: [] });
    expectTypeOf(create).returns.resolves.toHaveProperty('choices');
    expectTypeOf(ResilientDefault).toEqualTypeOf<typeof ResilientOpenAI>();
    client.close();
  });

  it('events, status and helpers are typed', () => {
    const client = new ResilientOpenAI({ apiKey: 'sk-types-123456', healthCheck: false });
    client.on('switched', (e) => expectTypeOf(e).toEqualTypeOf<SwitchedEvent>());
    client.on('recovered', (e) => expectTypeOf(e).toEqualTypeOf<RecoveredEvent>());
    client.on('retry', (e) => expectTypeOf(e).toEqualTypeOf<RetryEvent>());
    client.on('healthcheck', (e) => expectTypeOf(e).toEqualTypeOf<HealthCheckEvent>());
    client.on('breaker', (e) => expectTypeOf(e.state).toEqualTypeOf<'closed' | 'open' | 'half-open'>());
    expectTypeOf<BreakerEvent['endpoint']>().toEqualTypeOf<string>();
    expectTypeOf(new IncompleteStreamError('primary')).toMatchTypeOf<APIConnectionError>();
    // withFailover() returns options every SDK method accepts.
    const list = () => client.files.list({}, withFailover('allow', { timeout: 1000 }));
    expectTypeOf(list).returns.toMatchTypeOf<PromiseLike<unknown>>();
    // @ts-expect-error unknown event names are rejected
    client.on('nope', () => {});
    expectTypeOf(client.getStatus()).toEqualTypeOf<ResilientStatus>();
    expectTypeOf(client.getStatus().isMainApiAvailable).toEqualTypeOf<boolean>();
    expectTypeOf(client.checkPrimary()).toEqualTypeOf<Promise<boolean>>();
    expectTypeOf(client.activeClient).toEqualTypeOf<OpenAI>();
    expectTypeOf(getAttemptErrors).returns.toEqualTypeOf<readonly AttemptFailure[]>();
    expectTypeOf(createRetryPolicy()).toEqualTypeOf<RetryPolicy>();
    // @ts-expect-error options are checked by the compiler, and at run time
    expect(() => new ResilientOpenAI({ apiKey: 'k', healthCheck: { intervalMs: '5m' } })).toThrow(TypeError);
    client.close();
  });
});
