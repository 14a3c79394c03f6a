/**
 * The README's recipes with the real exporters: OTLP over HTTP to a collector (a loopback server
 * here) and a Prometheus scrape. What arrives names the call, and never holds a key.
 */
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { OTLPMetricExporter } from '@opentelemetry/exporter-metrics-otlp-http';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { describe, expect, it } from 'vitest';
import { chat, PRIMARY_KEY, setup, track } from '../support/harness.js';

const body = (req: IncomingMessage) =>
  new Promise<Buffer>((resolve) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
  });

async function listen(handler: Parameters<typeof createServer>[1]) {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  track({ close: () => new Promise<void>((resolve) => server.close(() => resolve())) });
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('exporters from the README recipes', () => {
  it('OTLP over HTTP: the collector receives the call and attempt spans and the metrics', async () => {
    const received: Record<string, string> = {};
    const collector = await listen((req, res) => {
      void body(req).then((b) => {
        received[req.url ?? ''] = (received[req.url ?? ''] ?? '') + b.toString('latin1');
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    const tracerProvider = new BasicTracerProvider({
      spanProcessors: [new BatchSpanProcessor(new OTLPTraceExporter({ url: `${collector}/v1/traces` }))],
    });
    const meterProvider = new MeterProvider({
      readers: [
        new PeriodicExportingMetricReader({
          exporter: new OTLPMetricExporter({ url: `${collector}/v1/metrics` }),
          exportIntervalMillis: 60_000,
        }),
      ],
    });
    const { client, primary } = await setup({ telemetry: { tracerProvider, meterProvider } });
    primary.queue({ kind: 'bad-gateway' });
    await client.chat.completions.create(chat);
    await Promise.all([tracerProvider.forceFlush(), meterProvider.forceFlush()]);
    await Promise.all([tracerProvider.shutdown(), meterProvider.shutdown()]);
    // OTLP/protobuf: the names travel as plain strings inside the message.
    expect(received['/v1/traces']).toContain('chat gpt-test');
    expect(received['/v1/traces']).toContain('http.request.resend_count');
    expect(received['/v1/metrics']).toContain('gen_ai.client.operation.duration');
    expect(received['/v1/metrics']).toContain('resilient_openai.failovers');
    expect(Object.values(received).join('')).not.toContain(PRIMARY_KEY);
  });

  it('Prometheus: a scrape shows the library metrics', async () => {
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const meterProvider = new MeterProvider({ readers: [exporter] });
    const scrape = await listen((req, res) => exporter.getMetricsRequestHandler(req, res));
    const { client, primary } = await setup({ telemetry: { meterProvider } });
    primary.queue({ kind: 'bad-gateway' });
    await client.chat.completions.create(chat);
    const text = await (await fetch(`${scrape}/metrics`)).text();
    await meterProvider.shutdown();
    expect(text).toMatch(/resilient_openai_failovers(_total)?\{[^}]*resilient_openai_endpoint="primary"[^}]*\} 1/);
    expect(text).toContain('gen_ai_client_operation_duration');
    expect(text).toMatch(/resilient_openai_breaker_state\{[^}]*resilient_openai_endpoint="primary"[^}]*\} 2/);
    expect(text).not.toContain(PRIMARY_KEY);
  });
});
