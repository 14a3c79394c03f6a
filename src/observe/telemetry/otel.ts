// The parts of the OpenTelemetry API (1.x) the library uses, as structural types, and the
// providers an app registered. Nothing is imported: an app that registers a provider through
// `@opentelemetry/api` stores it in the API's documented global registry, read here, so the
// package needs no dependency, works in ESM and CJS alike, and bundles on every runtime.

export type Attributes = Record<string, string | number | boolean | undefined>;

export interface Context {
  getValue(key: symbol): unknown;
  setValue(key: symbol, value: unknown): Context;
}

export interface Span {
  setAttribute(key: string, value: string | number | boolean): Span;
  setAttributes(attributes: Attributes): Span;
  addEvent(name: string, attributes?: Attributes): Span;
  setStatus(status: { code: number; message?: string }): Span;
  end(endTime?: number): void;
  isRecording(): boolean;
}

export interface Tracer {
  startSpan(name: string, options?: { kind?: number; attributes?: Attributes; startTime?: number }, context?: Context): Span;
}

/** What `telemetry.tracerProvider` takes: an OpenTelemetry `TracerProvider`. */
export interface TracerProviderLike {
  getTracer(name: string, version?: string): Tracer;
}

export interface Counter {
  add(value: number, attributes?: Attributes): void;
}
export interface Histogram {
  record(value: number, attributes?: Attributes): void;
}
export interface ObservableResult {
  observe(value: number, attributes?: Attributes): void;
}
export interface Meter {
  createCounter(name: string, options?: { description?: string; unit?: string }): Counter;
  createHistogram(
    name: string,
    options?: { description?: string; unit?: string; advice?: { explicitBucketBoundaries?: number[] } },
  ): Histogram;
  createObservableGauge(
    name: string,
    options?: { description?: string; unit?: string },
  ): {
    addCallback(callback: (result: ObservableResult) => void): void;
  };
}

/** What `telemetry.meterProvider` takes: an OpenTelemetry `MeterProvider`. */
export interface MeterProviderLike {
  getMeter(name: string, version?: string): Meter;
}

interface ContextManager {
  active(): Context;
}

/** The API's global registry (`@opentelemetry/api` 1.x, src/internal/global-utils.ts). */
interface Registry {
  trace?: TracerProviderLike;
  metrics?: MeterProviderLike;
  context?: ContextManager;
}

const REGISTRY = Symbol.for('opentelemetry.js.api.1');
/** The context key under which the API keeps the active span (`trace.setSpan`). */
export const SPAN_KEY = Symbol.for('OpenTelemetry Context Key SPAN');

/** SpanKind.CLIENT and SpanStatusCode.ERROR of the API. */
export const CLIENT = 2;
export const STATUS_ERROR = 2;

function registry(): Registry | undefined {
  return (globalThis as { [REGISTRY]?: Registry })[REGISTRY];
}

export function globalTracerProvider(): TracerProviderLike | undefined {
  return registry()?.trace;
}

export function globalMeterProvider(): MeterProviderLike | undefined {
  return registry()?.metrics;
}

/** The app's active context (its span becomes the parent), or undefined without a context manager. */
export function activeContext(): Context | undefined {
  return registry()?.context?.active();
}
