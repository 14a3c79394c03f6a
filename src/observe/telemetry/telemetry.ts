import type { EventName } from '../events.js';
import { log } from '../log.js';
import type { CallInfo, CallTrace } from './call-trace.js';
import { Instruments } from './instruments.js';
import { globalMeterProvider, globalTracerProvider, type MeterProviderLike, type Tracer, type TracerProviderLike } from './otel.js';

type Recorders = typeof import('./recorders.js');

/** `telemetry` as given: off, or the providers to use (undefined: the app's global ones). */
type TelemetryConfig = false | { tracerProvider?: unknown; meterProvider?: unknown };

const NAME = 'resilient-openai';

/** The recorders' module (recorders.ts), once loaded; loaded by the first call that has a provider. */
let recorders: Recorders | undefined;
let loading: Promise<Recorders | undefined> | undefined;

function loadRecorders(): Promise<Recorders | undefined> {
  return (loading ??= import('./recorders.js').then(
    (loaded) => (recorders = loaded),
    (error: unknown) => {
      // Not loadable (a broken install or bundle): calls go on, unrecorded.
      log('telemetry: the recorders could not be loaded (%s); recording nothing', String(error));
      return undefined;
    },
  ));
}

/**
 * Traces and metrics of every call, through the providers an app registered (or gave). Costs one
 * property read per call when none is registered. Spans and instruments are created lazily, per
 * provider, so a provider registered after the client was built is used from then on; the code
 * that records a call's spans is loaded at the first call that has a provider.
 */
export class Telemetry {
  #tracerFrom: TracerProviderLike | undefined;
  #tracer: Tracer | undefined;
  #metersFrom: MeterProviderLike | undefined;
  #instruments: Instruments | undefined;
  /** Calls in flight, by call id: switches and breaker changes become their span events. */
  readonly #open = new Map<string, CallTrace>();

  constructor(
    private readonly config: TelemetryConfig,
    private readonly breakerStates: () => { endpoint: string; state: string }[],
  ) {}

  /** The library's observer of its own events (see SafeEmitter.observer). */
  readonly observe = (event: EventName, payload: unknown): void => {
    if (this.config === false) return;
    const p = payload as { callId?: string; endpoint?: string; ok?: boolean };
    if (event === 'retry') this.#meters()?.retry(p);
    else if (event === 'healthcheck') this.#meters()?.healthCheck(p);
    if ((event === 'switched' || event === 'breaker') && p.callId !== undefined) this.#open.get(p.callId)?.event(event, payload);
    if (event === 'switched') this.#meters()?.switched(payload);
  };

  /**
   * A trace for one call, or undefined when neither traces nor metrics are on. A promise only
   * while the recorders load, at the first call that has a provider.
   */
  startCall(info: CallInfo): CallTrace | Promise<CallTrace | undefined> | undefined {
    if (this.config === false) return undefined;
    const tracer = this.#currentTracer();
    if (!tracer && !this.#meterProvider()) return undefined;
    if (recorders) return this.#start(recorders, info, tracer);
    // The span and the duration still start now, not once the module is there.
    const startedAt = performance.now();
    return loadRecorders().then((loaded) => (loaded ? this.#start(loaded, info, tracer, startedAt) : undefined));
  }

  #start(loaded: Recorders, info: CallInfo, tracer: Tracer | undefined, startedAt?: number): CallTrace | undefined {
    const meters = this.#meters();
    if (!tracer && !meters) return undefined;
    const trace = new loaded.CallTrace(info, tracer, meters, () => this.#open.delete(info.callId), startedAt);
    this.#open.set(info.callId, trace);
    return trace;
  }

  #meterProvider(): MeterProviderLike | undefined {
    return this.config === false ? undefined : (this.config.meterProvider as MeterProviderLike | undefined) || globalMeterProvider();
  }

  #currentTracer(): Tracer | undefined {
    const provider = ((this.config && this.config.tracerProvider) as TracerProviderLike | undefined) || globalTracerProvider();
    if (provider !== this.#tracerFrom) {
      this.#tracerFrom = provider;
      this.#tracer = provider?.getTracer(NAME);
    }
    return this.#tracer;
  }

  #meters(): Instruments | undefined {
    const provider = this.#meterProvider();
    if (provider !== this.#metersFrom) {
      this.#metersFrom = provider;
      this.#instruments = provider && new Instruments(provider.getMeter(NAME), this.breakerStates);
    }
    return this.#instruments;
  }
}
