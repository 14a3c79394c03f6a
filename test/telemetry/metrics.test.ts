/**
 * Metrics with the real OpenTelemetry SDK (sdk-metrics 2.x, which runs on Node 20 and 22): the two
 * GenAI histograms and the library's own counters and breaker gauge, through a MeterProvider given
 * as `telemetry.meterProvider` or registered globally, read back with exact values.
 */
import { metrics } from '@opentelemetry/api';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  MetricReader,
  PeriodicExportingMetricReader,
  type Histogram,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { afterEach, describe, expect, it } from 'vitest';
import { getServedBy, ResilientOpenAI } from '../../src/index.js';
import { chat, fallbackOn, setup, track, upstream } from '../support/harness.js';
import { chatStream, scriptedUpstream } from '../support/scripted-sse.js';
import { streamText } from '../support/sdk-calls.js';

/** A reader collected from on demand (what an exporter's reader does on its timer). */
class TestReader extends MetricReader {
  protected onForceFlush(): Promise<void> {
    return Promise.resolve();
  }
  protected onShutdown(): Promise<void> {
    return Promise.resolve();
  }
}

/** A provider and a function that reads the library's metrics as they are now. */
function inMemory(): { meterProvider: MeterProvider; read: () => Promise<MetricData[]> } {
  const reader = new TestReader();
  const meterProvider = new MeterProvider({ readers: [reader] });
  const read = async () => {
    const { resourceMetrics, errors } = await reader.collect();
    expect(errors).toEqual([]);
    return ours(resourceMetrics);
  };
  return { meterProvider, read };
}

/** The metrics of the library's meter (scope `resilient-openai`), none of anyone else's. */
function ours(resourceMetrics: ResourceMetrics): MetricData[] {
  return resourceMetrics.scopeMetrics.filter((s) => s.scope.name === 'resilient-openai').flatMap((s) => s.metrics);
}

function find(all: MetricData[], name: string): MetricData | undefined {
  return all.find((m) => m.descriptor.name === name);
}

/** A counter's or gauge's points as `[attributes, value]`. */
function points(all: MetricData[], name: string): [Record<string, unknown>, number][] {
  const metric = find(all, name);
  expect(metric, name).toBeDefined();
  return metric!.dataPoints.map((p) => [p.attributes, p.value as number]);
}

/** A histogram's points as `[attributes, count, sum, min, max]`. */
function histogram(all: MetricData[], name: string): [Record<string, unknown>, number, number, number, number][] {
  const metric = find(all, name);
  expect(metric?.dataPointType, name).toBe(DataPointType.HISTOGRAM);
  return metric!.dataPoints.map((p) => {
    const h = p.value as Histogram;
    return [p.attributes, h.count, h.sum!, h.min!, h.max!];
  });
}

const portOf = (upstream: { url: string }) => Number(new URL(upstream.url).port);

/** One 502 failover (primary → fallback), then every metric it leaves, exactly. */
async function failoverAndExpect(
  client: ResilientOpenAI,
  primary: { url: string },
  fallback: { url: string },
  read: () => Promise<MetricData[]>,
) {
  const startedAt = performance.now();
  const { response } = await client.chat.completions.create(chat).withResponse();
  const elapsedS = (performance.now() - startedAt) / 1000;
  expect(getServedBy(response)).toBe('fallback');
  const all = await read();

  const call = { 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.request.model': 'gpt-test' };
  const served = { 'server.address': '127.0.0.1', 'server.port': portOf(fallback) };
  expect(find(all, 'gen_ai.client.operation.duration')!.descriptor.unit).toBe('s');
  const [duration, ...moreDurations] = histogram(all, 'gen_ai.client.operation.duration');
  expect(moreDurations).toEqual([]);
  expect(duration![0]).toEqual({ ...call, ...served });
  expect(duration![1]).toBe(1);
  // Seconds, not milliseconds: more than nothing, no more than the call took as the caller saw it.
  expect(duration![2]).toBeGreaterThan(0);
  expect(duration![2]).toBeLessThanOrEqual(elapsedS);

  expect(find(all, 'gen_ai.client.token.usage')!.descriptor.unit).toBe('{token}');
  const tokens = { ...call, ...served, 'gen_ai.response.model': 'gpt-test' };
  expect(histogram(all, 'gen_ai.client.token.usage')).toEqual([
    [{ ...tokens, 'gen_ai.token.type': 'input' }, 1, 5, 5, 5],
    [{ ...tokens, 'gen_ai.token.type': 'output' }, 1, 4, 4, 4],
  ]);

  expect(points(all, 'resilient_openai.attempts')).toEqual([
    [{ 'resilient_openai.endpoint': 'primary', 'resilient_openai.outcome': 'failure', 'error.type': '502' }, 1],
    [{ 'resilient_openai.endpoint': 'fallback', 'resilient_openai.outcome': 'success' }, 1],
  ]);
  expect(points(all, 'resilient_openai.failovers')).toEqual([
    [{ 'resilient_openai.endpoint': 'primary', 'resilient_openai.to': 'fallback' }, 1],
  ]);
  expect(points(all, 'resilient_openai.switches')).toEqual([
    [{ 'resilient_openai.from': 'primary', 'resilient_openai.to': 'fallback', 'resilient_openai.reason': 'error' }, 1],
  ]);
  // A failover is not a retry on the same endpoint: the SDK leaves out a counter with no points.
  expect(find(all, 'resilient_openai.retries')).toBeUndefined();
  expect(find(all, 'resilient_openai.health_checks')).toBeUndefined();

  const gauge = find(all, 'resilient_openai.breaker.state');
  expect(gauge?.dataPointType).toBe(DataPointType.GAUGE);
  expect(points(all, 'resilient_openai.breaker.state')).toEqual([
    [{ 'resilient_openai.endpoint': 'primary' }, 2], // open
    [{ 'resilient_openai.endpoint': 'fallback' }, 0], // closed
  ]);
  return all;
}

describe('metrics', () => {
  afterEach(() => {
    metrics.disable();
  });

  it('telemetry.meterProvider: a 502 failover records duration, tokens, attempts, the failover, the switch and the breakers', async () => {
    const { meterProvider, read } = inMemory();
    const { client, primary, fallback } = await setup({ telemetry: { meterProvider } });
    primary.queue({ kind: 'bad-gateway' });
    await failoverAndExpect(client, primary, fallback, read);
    // The gauge is observed at each collection: the primary's breaker is still open.
    expect(points(await read(), 'resilient_openai.breaker.state')).toEqual([
      [{ 'resilient_openai.endpoint': 'primary' }, 2],
      [{ 'resilient_openai.endpoint': 'fallback' }, 0],
    ]);
  });

  it('a MeterProvider registered with metrics.setGlobalMeterProvider (exported through InMemoryMetricExporter)', async () => {
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    expect(metrics.setGlobalMeterProvider(meterProvider)).toBe(true);
    try {
      const { client, primary, fallback } = await setup();
      primary.queue({ kind: 'bad-gateway' });
      const read = async () => {
        exporter.reset();
        await meterProvider.forceFlush();
        return exporter.getMetrics().flatMap(ours);
      };
      await failoverAndExpect(client, primary, fallback, read);
    } finally {
      await meterProvider.shutdown();
    }
  });

  it('a 429 with a short Retry-After: one retry on the same endpoint, then its success', async () => {
    const { meterProvider, read } = inMemory();
    const { client, primary, events } = await setup({ telemetry: { meterProvider } });
    primary.queue({ kind: 'rate-limit', retryAfterMs: '20' });
    const { response } = await client.chat.completions.create(chat).withResponse();
    expect(getServedBy(response)).toBe('primary');
    expect(events.retry.map((e) => [e.from, e.endpoint])).toEqual([['primary', 'primary']]);
    const all = await read();
    expect(points(all, 'resilient_openai.retries')).toEqual([[{ 'resilient_openai.endpoint': 'primary' }, 1]]);
    expect(points(all, 'resilient_openai.attempts')).toEqual([
      [{ 'resilient_openai.endpoint': 'primary', 'resilient_openai.outcome': 'failure', 'error.type': '429' }, 1],
      [{ 'resilient_openai.endpoint': 'primary', 'resilient_openai.outcome': 'success' }, 1],
    ]);
    expect(find(all, 'resilient_openai.failovers')).toBeUndefined();
    expect(find(all, 'resilient_openai.switches')).toBeUndefined();
    const [duration] = histogram(all, 'gen_ai.client.operation.duration');
    expect(duration![0]).toMatchObject({ 'server.port': portOf(primary) });
    // The wait the 429 asked for is part of the call's duration.
    expect(duration![2]).toBeGreaterThanOrEqual(0.02);
    expect(points(all, 'resilient_openai.breaker.state')).toEqual([
      [{ 'resilient_openai.endpoint': 'primary' }, 0],
      [{ 'resilient_openai.endpoint': 'fallback' }, 0],
    ]);
  });

  it('checkPrimary(): resilient_openai.health_checks by outcome', async () => {
    const { meterProvider, read } = inMemory();
    const { client, primary } = await setup({ telemetry: { meterProvider } });
    expect(await client.checkPrimary()).toBe(true);
    expect(points(await read(), 'resilient_openai.health_checks')).toEqual([
      [{ 'resilient_openai.endpoint': 'primary', 'resilient_openai.outcome': 'ok' }, 1],
    ]);
    primary.setFault({ kind: 'bad-gateway' });
    expect(await client.checkPrimary()).toBe(false);
    expect(await client.checkPrimary()).toBe(false);
    expect(points(await read(), 'resilient_openai.health_checks')).toEqual([
      [{ 'resilient_openai.endpoint': 'primary', 'resilient_openai.outcome': 'ok' }, 1],
      [{ 'resilient_openai.endpoint': 'primary', 'resilient_openai.outcome': 'failed' }, 2],
    ]);
    // Probes are not calls: no operation duration, no attempts.
    expect(find(await read(), 'gen_ai.client.operation.duration')).toBeUndefined();
    expect(find(await read(), 'resilient_openai.attempts')).toBeUndefined();
  });

  it('streams: the duration is recorded at the end of the stream, with the endpoint that served it', async () => {
    const { meterProvider, read } = inMemory();
    const { client, primary } = await setup({ telemetry: { meterProvider } });
    // Frames 20 ms apart: the stream is handed out long before its end.
    primary.queue({ kind: 'slow-body', ms: 20 });
    const stream = await client.chat.completions.create({ ...chat, stream: true });
    expect(find(await read(), 'gen_ai.client.operation.duration')).toBeUndefined();
    expect(await streamText(stream)).toBe('hello from primary');
    const [slow, ...none] = histogram(await read(), 'gen_ai.client.operation.duration');
    expect(none).toEqual([]);
    expect(slow![0]).toMatchObject({ 'server.port': portOf(primary) });
    expect(slow![1]).toBe(1);
    // Two pauses of 20 ms between three frames.
    expect(slow![2]).toBeGreaterThanOrEqual(0.04);
    // A stream carries no usage here (no stream_options.include_usage): no token metric.
    expect(find(await read(), 'gen_ai.client.token.usage')).toBeUndefined();

    // The whole stream in one write: its end is seen before it is handed out, and still has its server.
    const fast = track(await scriptedUpstream(() => chatStream('all at once')));
    const fallback = await upstream('fallback');
    const other = inMemory();
    const client2 = track(
      new ResilientOpenAI({
        apiKey: 'sk-test',
        baseURL: fast.url,
        fallback: fallbackOn(fallback),
        healthCheck: false,
        telemetry: { meterProvider: other.meterProvider },
      }),
    );
    expect(await streamText(await client2.chat.completions.create({ ...chat, stream: true }))).toBe('all at once');
    const [whole] = histogram(await other.read(), 'gen_ai.client.operation.duration');
    expect(whole![0]).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-test',
      'server.address': '127.0.0.1',
      'server.port': portOf(fast),
    });
  });

  it('a failed call: its duration carries error.type and no server', async () => {
    const { meterProvider, read } = inMemory();
    const { client, primary, fallback } = await setup({ telemetry: { meterProvider } });
    primary.setFault({ kind: 'bad-gateway' });
    fallback.setFault({ kind: 'bad-gateway' });
    await expect(client.chat.completions.create(chat)).rejects.toMatchObject({ status: 502 });
    const all = await read();
    const [duration, ...more] = histogram(all, 'gen_ai.client.operation.duration');
    expect(more).toEqual([]);
    expect(duration![0]).toEqual({
      'gen_ai.operation.name': 'chat',
      'gen_ai.provider.name': 'openai',
      'gen_ai.request.model': 'gpt-test',
      'error.type': '502',
    });
    expect(duration![1]).toBe(1);
    expect(find(all, 'gen_ai.client.token.usage')).toBeUndefined();
  });

  it('a call that is no GenAI operation (a files listing) counts its attempt but records no gen_ai duration', async () => {
    const { meterProvider, read } = inMemory();
    const { client } = await setup({ telemetry: { meterProvider } });
    await client.models.list();
    await client.chat.completions.create(chat);
    const all = await read();
    // Positive control: the chat call's duration is there, the listing's is not.
    expect(histogram(all, 'gen_ai.client.operation.duration').map(([attributes]) => attributes['gen_ai.operation.name'])).toEqual(['chat']);
    expect(points(all, 'resilient_openai.attempts').map(([, value]) => value)).toEqual([2]);
  });

  it('telemetry: false records nothing, even with a global MeterProvider (positive control: a client without it)', async () => {
    const { meterProvider, read } = inMemory();
    expect(metrics.setGlobalMeterProvider(meterProvider)).toBe(true);
    const off = await setup({ telemetry: false });
    off.primary.queue({ kind: 'bad-gateway' });
    await off.client.chat.completions.create(chat);
    await off.client.checkPrimary();
    expect(await read()).toEqual([]);

    const on = await setup();
    await on.client.chat.completions.create(chat);
    expect(points(await read(), 'resilient_openai.attempts')).toEqual([
      [{ 'resilient_openai.endpoint': 'primary', 'resilient_openai.outcome': 'success' }, 1],
    ]);
  });

  it('an invalid telemetry option is a TypeError naming it', () => {
    const base = { apiKey: 'sk-test', baseURL: 'http://127.0.0.1:9/v1', healthCheck: false as const };
    const build = (telemetry: unknown) => () => track(new ResilientOpenAI({ ...base, telemetry: telemetry as never }));
    expect(build({ meterProvider: {} })).toThrow(TypeError);
    expect(build({ meterProvider: {} })).toThrow(/`telemetry\.meterProvider`.*MeterProvider.*got an object \(empty\)/);
    expect(build({ meterProvider: { getMeter: 1 } })).toThrow(/`telemetry\.meterProvider`/);
    expect(build({ tracerProvider: {} })).toThrow(/`telemetry\.tracerProvider`.*TracerProvider/);
    expect(build('x')).toThrow(TypeError);
    expect(build('x')).toThrow(/`telemetry` to be an options object or false, got "x"/);
    expect(build(true)).toThrow(/`telemetry`/);
    expect(build(null)).toThrow(/`telemetry`/);
    // Positive controls: what is valid builds.
    expect(build(undefined)).not.toThrow();
    expect(build(false)).not.toThrow();
    expect(build({ meterProvider: new MeterProvider() })).not.toThrow();
  });
});
