import type { SecretSet } from '../observe/redact.js';
import type { NormalizedTimeouts } from '../options/defaults.js';
import type { Endpoint } from '../routing/router.js';
import { bufferBody } from '../streams/buffer-body.js';
import { guardStream, type StreamWatch } from '../streams/guard-stream.js';
import { prepareAttempt } from './attempt-options.js';
import { kKeepAnswer, type KeepAnswer } from '../streams/kept-answers.js';
import type { CallPlan } from './plan.js';
import { either } from './signals.js';
import type { RequestOptions } from './types.js';

/**
 * One attempt: exactly one HTTP request through one inner client (its own retries off), read far
 * enough to know it succeeded: a whole body, or a stream's first event.
 */
export class Attempt {
  /** What `Stream` aborts on `break`: a stream's request follows it and the caller's signal. */
  readonly controller = new AbortController();
  readonly signal: AbortSignal | undefined;
  readonly options: RequestOptions;
  /** When the request went out: answers to requests older than a breaker change are stale. */
  readonly sentAt = Date.now();
  readonly #timeMs: number;
  readonly #idleMs: number;
  /** A copy of this attempt's non-2xx answer, for `client.fetch` (see kept-answers.ts). */
  answer: Response | undefined;

  constructor(
    readonly endpoint: Endpoint,
    private readonly plan: CallPlan,
    timeouts: NormalizedTimeouts,
    remainingMs: number,
    private readonly secrets: SecretSet,
  ) {
    const { options, defaults, signal, isStream } = plan;
    this.#idleMs = timeouts.streamIdleMs;
    this.#timeMs = Math.min(options.timeout ?? defaults.timeout ?? endpoint.timeout ?? timeouts.requestMs, remainingMs);
    const headersMs = isStream ? Math.min(timeouts.streamHeadersMs, this.#timeMs) : this.#timeMs;
    // A non-streaming call without a signal needs none: it is complete when it returns, and
    // creating an AbortSignal on every call is measurable.
    this.signal =
      signal ? either(signal, this.controller)
      : isStream ? this.controller.signal
      : undefined;
    this.options = prepareAttempt(options, endpoint, this.signal, Math.ceil(headersMs), defaults, plan.override !== undefined);
    if (plan.raw) {
      const keep: KeepAnswer = (response) => {
        this.answer = response;
      };
      this.options.fetchOptions = { ...this.options.fetchOptions, [kKeepAnswer]: keep } as RequestOptions['fetchOptions'];
    }
  }

  /** Sends the request; `watch` hears how a stream ends, after it was handed out. */
  async send(watch: StreamWatch | undefined): Promise<Response> {
    const response = await this.endpoint.client.request(this.options).asResponse();
    // What is left of the attempt's time bounds the body, or the wait for a stream's first output.
    const leftMs = this.sentAt + this.#timeMs - Date.now();
    if (this.plan.bufferable && response.status !== 204) return bufferBody(response, leftMs, this.signal);
    if (!this.plan.isStream || !watch) return response;
    const { options } = this.plan;
    return guardStream(response, {
      firstOutputMs: leftMs,
      idleMs: this.#idleMs,
      controller: this.controller,
      signal: this.signal!,
      endpoint: this.endpoint.name,
      path: options.path,
      body: options.body,
      watch,
      scrub: (text) => this.secrets.scrub(text),
    });
  }

  /** The SDK marked the body one-shot (a file stream): it must never be sent again. */
  get oneShotBody(): boolean {
    return this.options.__metadata?.['hasStreamingBody'] === true;
  }
}
