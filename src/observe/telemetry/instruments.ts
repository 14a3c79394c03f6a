import type { Attributes, Counter, Histogram, Meter } from './otel.js';

/** Breaker states as a gauge's values. */
const STATE_VALUE: Record<string, number> = { closed: 0, 'half-open': 1, open: 2 };

/**
 * The metrics: the two of the GenAI semantic conventions, and the library's own (names, units and
 * attributes as README "Telemetry" lists them).
 */
export class Instruments {
  readonly duration: Histogram;
  readonly tokens: Histogram;
  readonly attempts: Counter;
  readonly #retries: Counter;
  readonly #failovers: Counter;
  readonly #switches: Counter;
  readonly #healthChecks: Counter;

  constructor(meter: Meter, breakerStates: () => { endpoint: string; state: string }[]) {
    this.duration = meter.createHistogram('gen_ai.client.operation.duration', {
      description: 'GenAI operation duration',
      unit: 's',
      advice: { explicitBucketBoundaries: [0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92] },
    });
    this.tokens = meter.createHistogram('gen_ai.client.token.usage', {
      description: 'Number of input and output tokens used',
      unit: '{token}',
      advice: { explicitBucketBoundaries: [1, 4, 16, 64, 256, 1024, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864] },
    });
    this.attempts = meter.createCounter('resilient_openai.attempts', {
      description: 'HTTP attempts, by endpoint and outcome',
      unit: '{attempt}',
    });
    this.#retries = meter.createCounter('resilient_openai.retries', {
      description: 'Attempts retried on the same endpoint',
      unit: '{retry}',
    });
    this.#failovers = meter.createCounter('resilient_openai.failovers', {
      description: 'Attempts moved to another endpoint',
      unit: '{failover}',
    });
    this.#switches = meter.createCounter('resilient_openai.switches', { description: 'Changes of the active endpoint', unit: '{switch}' });
    this.#healthChecks = meter.createCounter('resilient_openai.health_checks', {
      description: 'Probes of the primary, by outcome',
      unit: '{check}',
    });
    meter
      .createObservableGauge('resilient_openai.breaker.state', {
        description: 'Breaker state per endpoint: 0 closed, 1 half-open, 2 open',
        unit: '1',
      })
      .addCallback((result) => {
        for (const { endpoint, state } of breakerStates())
          result.observe(STATE_VALUE[state] ?? 2, { 'resilient_openai.endpoint': endpoint });
      });
  }

  retry(event: { endpoint?: string; from?: string }): void {
    const attributes: Attributes = { 'resilient_openai.endpoint': event.from };
    if (event.endpoint === event.from) this.#retries.add(1, attributes);
    else this.#failovers.add(1, { ...attributes, 'resilient_openai.to': event.endpoint });
  }

  switched(event: unknown): void {
    const e = event as { from: string; to: string; reason: string };
    this.#switches.add(1, { 'resilient_openai.from': e.from, 'resilient_openai.to': e.to, 'resilient_openai.reason': e.reason });
  }

  healthCheck(event: { endpoint?: string; ok?: boolean }): void {
    this.#healthChecks.add(1, { 'resilient_openai.endpoint': event.endpoint, 'resilient_openai.outcome': event.ok ? 'ok' : 'failed' });
  }
}
