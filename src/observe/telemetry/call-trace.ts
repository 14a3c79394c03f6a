import { errorType, isGenAI, operationOf, serverOf } from './semconv.js';
import type { Instruments } from './instruments.js';
import { activeContext, CLIENT, SPAN_KEY, STATUS_ERROR, type Attributes, type Span, type Tracer } from './otel.js';

/** What a call says about itself when it starts. */
export interface CallInfo {
  readonly method: string;
  readonly path: string;
  readonly body: unknown;
  readonly callId: string;
  readonly stream: boolean;
}

/** An endpoint as an attempt span names it. */
export interface TracedEndpoint {
  readonly name: string;
  /** Base URL, credentials redacted: only its host and port are used. */
  readonly url: string;
}

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null && !(body instanceof FormData) ? (body as Record<string, unknown>)[name] : undefined;
}

/** Usage as the chat, completions and embeddings APIs (`prompt_tokens`) or Responses (`input_tokens`) give it. */
function usageOf(json: unknown): { input?: number; output?: number } {
  const usage = field(json, 'usage') as Record<string, unknown> | undefined;
  if (!usage) return {};
  const n = (v: unknown) => (typeof v === 'number' ? v : undefined);
  return { input: n(usage.input_tokens) ?? n(usage.prompt_tokens), output: n(usage.output_tokens) ?? n(usage.completion_tokens) };
}

/**
 * One call's span (GenAI conventions: `chat gpt-4o-mini`, kind CLIENT) with one child span per
 * attempt (HTTP client conventions), and its metrics. Never records prompt or completion text.
 */
export class CallTrace {
  readonly #span: Span | undefined;
  readonly #context: ReturnType<typeof activeContext>;
  readonly #started: number;
  readonly #base: Attributes;
  /** A GenAI operation (chat, embeddings, ...): it feeds the `gen_ai.client.*` metrics. */
  readonly #genai: boolean;
  #attempts = 0;
  #served: TracedEndpoint | undefined;
  #ended = false;
  #handedOut = false;
  /** A stream's end heard before it was handed out (its terminal frame came with its first output). */
  #endBeforeHandout: { error: unknown } | undefined;

  constructor(
    info: CallInfo,
    private readonly tracer: Tracer | undefined,
    private readonly meters: Instruments | undefined,
    private readonly onEnd: () => void,
    /** `performance.now()` when the call started, when that was before now (the first traced call waits for this module). */
    startedAt?: number,
  ) {
    this.#started = startedAt ?? performance.now();
    const operation = operationOf(info.method, info.path);
    const model = field(info.body, 'model');
    this.#genai = isGenAI(operation);
    this.#base = {
      // A files listing is an OpenAI call but no GenAI operation: named by our own attribute.
      [this.#genai ? 'gen_ai.operation.name' : 'resilient_openai.operation']: operation,
      'gen_ai.provider.name': 'openai',
      ...(typeof model === 'string' && { 'gen_ai.request.model': model }),
    };
    const parent = activeContext();
    this.#span = tracer?.startSpan(
      typeof model === 'string' ? `${operation} ${model}` : operation,
      {
        kind: CLIENT,
        attributes: { ...this.#base, 'resilient_openai.call_id': info.callId, ...(info.stream && { 'gen_ai.request.stream': true }) },
        // Only when it was earlier: a span given a start time is ended by the wall clock in the
        // OpenTelemetry SDK, not by the monotonic one its children use.
        ...(startedAt !== undefined && { startTime: performance.timeOrigin + startedAt }),
      },
      parent,
    );
    this.#context = this.#span && parent ? parent.setValue(SPAN_KEY, this.#span) : undefined;
  }

  /** Starts the span of one attempt, a child of the call's span. */
  attempt(endpoint: TracedEndpoint, method: string): AttemptSpan {
    const resend = this.#attempts++;
    this.#endBeforeHandout = undefined;
    const server = serverOf(endpoint.url);
    const attributes: Attributes = {
      'http.request.method': method.toUpperCase(),
      'resilient_openai.endpoint': endpoint.name,
      ...(server && { 'server.address': server.address, 'server.port': server.port }),
      ...(resend > 0 && { 'http.request.resend_count': resend }),
    };
    const span =
      this.#span && this.tracer?.startSpan(method.toUpperCase(), { kind: CLIENT, attributes }, this.#context ?? contextWith(this.#span));
    return new AttemptSpan(span, endpoint, this.meters, (served) => (this.#served = served));
  }

  /** A switch or a breaker change this call caused, or a continuation of its stream: an event on its span. */
  event(name: 'switched' | 'breaker' | 'resumed', payload: unknown): void {
    const p = payload as Record<string, unknown>;
    const attributes: Attributes =
      name === 'switched' ?
        { 'resilient_openai.from': String(p.from), 'resilient_openai.to': String(p.to), 'resilient_openai.reason': String(p.reason) }
      : name === 'resumed' ?
        {
          'resilient_openai.endpoint': String(p.endpoint),
          'gen_ai.response.id': String(p.responseId),
          'resilient_openai.from_sequence_number': Number(p.from),
          'resilient_openai.resume_attempt': Number(p.attempt),
        }
      : {
          'resilient_openai.endpoint': String(p.endpoint),
          'resilient_openai.state': String(p.state),
          'resilient_openai.previous': String(p.previous),
        };
    this.#span?.addEvent(`resilient_openai.${name}`, attributes);
  }

  /** A whole answer: its id, model and usage. */
  answered(json: unknown): void {
    const attributes: Attributes = { ...(this.#served && serverAttributes(this.#served)) };
    const id = field(json, 'id');
    const model = field(json, 'model');
    if (typeof id === 'string') attributes['gen_ai.response.id'] = id;
    if (typeof model === 'string') attributes['gen_ai.response.model'] = model;
    const { input, output } = usageOf(json);
    if (input !== undefined) attributes['gen_ai.usage.input_tokens'] = input;
    if (output !== undefined) attributes['gen_ai.usage.output_tokens'] = output;
    this.#span?.setAttributes(attributes);
    const metric = {
      ...this.#base,
      ...serverAttributes(this.#served),
      ...(typeof model === 'string' && { 'gen_ai.response.model': model }),
    };
    if (input !== undefined) this.meters?.tokens.record(input, { ...metric, 'gen_ai.token.type': 'input' });
    if (output !== undefined) this.meters?.tokens.record(output, { ...metric, 'gen_ai.token.type': 'output' });
    this.#end(undefined);
  }

  /** A stream was handed out (after its attempt span ended): its span stays open until its end. */
  firstChunk(): void {
    this.#handedOut = true;
    this.#span?.setAttribute('resilient_openai.time_to_first_chunk', (performance.now() - this.#started) / 1000);
    if (this.#endBeforeHandout) this.#end(this.#endBeforeHandout.error);
  }

  /**
   * The stream reached its terminal frame (no error), or broke after output. A whole stream in the
   * attempt's first read ends here before it is handed out: its end waits for the handout, so the
   * span ends after its attempt's, with the time to the first chunk and the serving endpoint.
   */
  streamEnded(error?: unknown): void {
    if (this.#handedOut) this.#end(error);
    else this.#endBeforeHandout ??= { error };
  }

  /** The call failed: every attempt did, or it could not start one. */
  failed(error: unknown): void {
    this.#end(error);
  }

  #end(error: unknown): void {
    if (this.#ended) return;
    this.#ended = true;
    this.onEnd();
    const attributes: Attributes = { ...this.#base, ...serverAttributes(this.#served) };
    // A stream's span has no answer to read them from (answered() sets them too).
    this.#span?.setAttributes(serverAttributes(this.#served));
    if (error !== undefined) {
      attributes['error.type'] = errorType(error);
      this.#span?.setAttribute('error.type', attributes['error.type']);
      this.#span?.setStatus({ code: STATUS_ERROR });
    }
    this.#span?.end();
    if (this.#genai) this.meters?.duration.record((performance.now() - this.#started) / 1000, attributes);
  }
}

function serverAttributes(endpoint: TracedEndpoint | undefined): Attributes {
  const server = endpoint && serverOf(endpoint.url);
  return server ? { 'server.address': server.address, 'server.port': server.port } : {};
}

/** A context that holds only `span`, for an app without a context manager. */
function contextWith(span: Span): ReturnType<typeof activeContext> {
  const values = new Map<symbol, unknown>([[SPAN_KEY, span]]);
  const make = (map: Map<symbol, unknown>): NonNullable<ReturnType<typeof activeContext>> => ({
    getValue: (key) => map.get(key),
    setValue: (key, value) => make(new Map(map).set(key, value)),
  });
  return make(values);
}

/** One attempt's span and its `resilient_openai.attempts` count. */
export class AttemptSpan {
  constructor(
    private readonly span: Span | undefined,
    private readonly endpoint: TracedEndpoint,
    private readonly meters: Instruments | undefined,
    private readonly onServed: (endpoint: TracedEndpoint) => void,
  ) {}

  succeeded(status: number): void {
    this.onServed(this.endpoint);
    this.span?.setAttribute('http.response.status_code', status);
    this.span?.end();
    this.meters?.attempts.add(1, { 'resilient_openai.endpoint': this.endpoint.name, 'resilient_openai.outcome': 'success' });
  }

  failed(error: unknown): void {
    const type = errorType(error);
    const status = (error as { status?: unknown } | null)?.status;
    if (typeof status === 'number') this.span?.setAttribute('http.response.status_code', status);
    this.span?.setAttribute('error.type', type);
    this.span?.setStatus({ code: STATUS_ERROR });
    this.span?.end();
    this.meters?.attempts.add(1, {
      'resilient_openai.endpoint': this.endpoint.name,
      'resilient_openai.outcome': 'failure',
      'error.type': type,
    });
  }
}
