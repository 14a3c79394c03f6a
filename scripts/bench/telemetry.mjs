// 9. Telemetry: client CPU per JSON call with an in-memory `fetch` (as 1b), in alternating rounds
// between the plain SDK, `telemetry: false` (twice: the two differ by noise alone), no provider
// registered (the default: it must cost nothing), a real tracer provider (BasicTracerProvider,
// SimpleSpanProcessor, InMemorySpanExporter), and the same plus a MeterProvider whose reader keeps
// its exports in memory. The exporters are emptied after every round, so memory does not grow.
import { AggregationTemporality, InMemoryMetricExporter, MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { perCallUs } from './cpu.mjs';
import { median } from './lib.mjs';
import { COMPLETION } from './wire.mjs';

// As an answer usually is: with usage, so the token histogram records too.
const body = JSON.stringify({ ...COMPLETION, usage: { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 } });
const fetch = () => Promise.resolve(new Response(body, { status: 200, headers: { 'content-type': 'application/json' } }));

/** The API's global registry: configuration (1) is only honest when nothing is in it. */
function assertNothingRegistered() {
  const registry = globalThis[Symbol.for('opentelemetry.js.api.1')];
  if (registry?.trace || registry?.metrics) throw new Error('bench: a global OpenTelemetry provider is registered');
}

function metricsReader() {
  const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  // Exported only when flushed (after each round, outside the timed calls).
  const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 2 ** 31 - 1 });
  return { exporter, reader };
}

/** The cumulative `resilient_openai.attempts` of the last export: every call made one. */
function attemptsCounted(exporter) {
  const metrics =
    exporter
      .getMetrics()
      .at(-1)
      ?.scopeMetrics.flatMap((s) => s.metrics) ?? [];
  const attempts = metrics.find((m) => m.descriptor.name === 'resilient_openai.attempts');
  return attempts?.dataPoints.reduce((n, p) => n + p.value, 0) ?? 0;
}

export async function telemetry({ OpenAI, ResilientOpenAI, rounds = 10, calls = 5000 }) {
  assertNothingRegistered();
  const spans = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
  const spans2 = new InMemorySpanExporter();
  const tracerProvider2 = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans2)] });
  const metrics = metricsReader();
  const meterProvider = new MeterProvider({ readers: [metrics.reader] });
  const options = (telemetry) => ({
    apiKey: 'sk-bench',
    baseURL: 'http://bench.invalid/v1',
    fetch,
    fallback: { apiKey: 'sk-bench', baseURL: 'http://fallback.invalid/v1', fetch },
    healthCheck: false,
    ...(telemetry !== undefined && { telemetry }),
  });
  const clients = {
    plain: new OpenAI({ apiKey: 'sk-bench', baseURL: 'http://bench.invalid/v1', fetch }),
    off: new ResilientOpenAI(options(false)),
    offAgain: new ResilientOpenAI(options(false)),
    noProvider: new ResilientOpenAI(options(undefined)),
    traces: new ResilientOpenAI(options({ tracerProvider })),
    tracesMetrics: new ResilientOpenAI(options({ tracerProvider: tracerProvider2, meterProvider })),
  };
  const names = Object.keys(clients);
  let metered = 0;
  /** After each batch: what was recorded is checked, then dropped. */
  const settle = async (name, n) => {
    if (name === 'traces' || name === 'tracesMetrics') {
      const exporter = name === 'traces' ? spans : spans2;
      // One call span and one attempt span per call.
      if (exporter.getFinishedSpans().length !== 2 * n)
        throw new Error(`bench: ${name} recorded ${exporter.getFinishedSpans().length} spans`);
      exporter.reset();
    }
    if (name === 'tracesMetrics') {
      metered += n;
      await metrics.reader.forceFlush();
      if (attemptsCounted(metrics.exporter) !== metered) throw new Error(`bench: ${attemptsCounted(metrics.exporter)} attempts counted`);
      metrics.exporter.reset();
    }
    if (name === 'noProvider' || name === 'off' || name === 'offAgain') assertNothingRegistered();
    // The garbage of one batch (10,000 spans, say) is collected before the next batch, not during it.
    globalThis.gc?.();
  };
  // Warm-up: JIT, lazily built tracers and instruments.
  for (const name of names) {
    await perCallUs(clients[name], calls, false);
    await settle(name, calls);
  }
  const us = Object.fromEntries(names.map((name) => [name, []]));
  for (let r = 0; r < rounds; r++) {
    // Each round starts one later in the list: no configuration always runs first or last.
    for (let k = 0; k < names.length; k++) {
      const name = names[(r + k) % names.length];
      us[name].push(await perCallUs(clients[name], calls, false));
      await settle(name, calls);
    }
  }
  await Promise.all([tracerProvider.shutdown(), tracerProvider2.shutdown(), meterProvider.shutdown()]);
  const paired = (name, base, f) => median(us[name].map((x, i) => f(x, us[base][i])));
  const ratio = (name, base) => paired(name, base, (x, y) => x / y);
  const added = (name, base) => paired(name, base, (x, y) => x - y);
  return {
    calls,
    rounds,
    plainUs: median(us.plain),
    offUs: median(us.off),
    noProviderUs: median(us.noProvider),
    tracesUs: median(us.traces),
    tracesMetricsUs: median(us.tracesMetrics),
    // Two identical `telemetry: false` clients: how far apart noise alone puts two rounds.
    noiseUs: paired('offAgain', 'off', (x, y) => Math.abs(x - y)),
    noProviderAddedUs: added('noProvider', 'off'),
    noProviderVsOff: ratio('noProvider', 'off'),
    noProviderVsPlain: ratio('noProvider', 'plain'),
    offVsPlain: ratio('off', 'plain'),
    tracesAddedUs: added('traces', 'off'),
    tracesVsOff: ratio('traces', 'off'),
    tracesVsPlain: ratio('traces', 'plain'),
    tracesMetricsAddedUs: added('tracesMetrics', 'off'),
    tracesMetricsVsOff: ratio('tracesMetrics', 'off'),
    tracesMetricsVsPlain: ratio('tracesMetrics', 'plain'),
  };
}
