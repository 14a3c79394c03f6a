import type { SecretSet } from '../observe/redact.js';
import type { NormalizedTimeouts } from '../options/defaults.js';
import type { Endpoint } from '../routing/router.js';
import { bufferBody } from '../streams/buffer-body.js';
import { markServed } from './served-by.js';
import type { StreamWatch } from '../streams/guard-stream.js';
import { loadedGuard, loadGuard } from '../streams/load-guard.js';
import type { Resumer } from '../streams/guarded-source.js';
import { prepareAttempt } from './attempt-options.js';
import { follow } from './signals.js';
import { keepAnswer, kKeepAnswer, type KeepAnswer } from '../streams/kept-answers.js';
import type { CallPlan } from './plan.js';
import type { RequestOptions } from './types.js';

/**
 * One attempt: exactly one HTTP request through one inner client (its own retries off), read far
 * enough to know it succeeded: a whole body, or a stream's first event.
 */
// What a whole answer's props carry: the SDK reads `controller` only to build a Stream, so a call
// that does not stream shares one that is never aborted instead of creating its own.
let unusedController: AbortController | undefined;

export class Attempt {
  /**
   * What `Stream` aborts on `break`: for a stream, the inner client's own controller of the
   * request (set when the answer arrives), which already follows the caller's signal.
   */
  controller: AbortController;
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
    // No AbortController of our own: a body is bounded by cancelling its reader, and a stream is
    // aborted through the inner client's controller, which the SDK links to the caller's signal.
    // Creating one, and linking it, costs more per call than the rest of the attempt.
    this.controller = unusedController ??= new AbortController();
    this.signal = signal && follow(signal);
    const boundMs = Math.ceil(headersMs);
    // A per-request `timeout` makes the SDK send `x-stainless-timeout`, which plain clients send
    // only when their caller passes one: one more header to build, send and parse costs about
    // 10 µs per call (BENCHMARKS.md). When the inner client's own timeout already is the bound,
    // as it is for most attempts on a client we built, none is passed.
    const timeout = options.timeout === undefined && boundMs === endpoint.client.timeout ? undefined : boundMs;
    this.options = prepareAttempt(options, endpoint, this.signal, timeout, defaults, plan.override !== undefined);
    if (plan.raw) {
      const keep: KeepAnswer = (response) => {
        this.answer = response;
      };
      this.options.fetchOptions = { ...this.options.fetchOptions, [kKeepAnswer]: keep } as unknown as RequestOptions['fetchOptions'];
    }
  }

  /** Sends the request; `watch` hears how a stream ends, after it was handed out; `resume` continues it after a cut. */
  async send(watch: StreamWatch | undefined, resume?: Resumer): Promise<Response> {
    const streams = this.plan.isStream && watch !== undefined;
    // The first stream loads the guard (load-guard.ts) before its request goes out, not while it
    // is on the wire: the guard must read the body as soon as it arrives, or a cut right after the
    // first chunk errors the body, which drops the chunks it held, and the attempt looks as if it
    // had sent nothing. A failed load fails the attempt before anything was sent.
    const guard = streams ? (loadedGuard() ?? (await loadGuard())) : undefined;
    const answer = await answerOf(this.endpoint.client.request(this.options));
    const { response } = answer;
    // Before the body is buffered or guarded: both give the response a prototype of ours, and V8
    // reuses no shape transition made after that, so a property added then gave every response a
    // hidden class of its own (test/response-shapes.test.ts).
    markServed(response, this.endpoint.name);
    // What is left of the attempt's time bounds the body, or the wait for a stream's first output.
    const leftMs = this.sentAt + this.#timeMs - Date.now();
    // Awaited rather than returned: an async function that returns a promise takes two more turns.
    if (this.plan.bufferable && response.status !== 204) return await bufferBody(response, leftMs, this.signal);
    if (!guard || !watch) return response;
    const { options } = this.plan;
    const controller = answer.controller ?? new AbortController();
    this.controller = controller;
    return await guard.guardStream(response, {
      firstOutputMs: leftMs,
      idleMs: this.#idleMs,
      controller,
      signal: controller.signal,
      endpoint: this.endpoint.name,
      path: options.path,
      body: options.body,
      watch,
      resume,
      scrub: (text) => this.secrets.scrub(text),
      keep: keepAnswer,
    });
  }

  /** The SDK marked the body one-shot (a file stream): it must never be sent again. */
  get oneShotBody(): boolean {
    return this.options.__metadata?.['hasStreamingBody'] === true;
  }
}

type InnerPromise = ReturnType<Endpoint['client']['request']>;

/**
 * What the inner client's promise resolves before parsing: the response and the controller its
 * fetch follows. Read from the promise's own field (openai 6 and 7 have it), with no promise of
 * ours around it; without it, no controller: the attempt makes one of its own, which ends the
 * stream we hand out but not the request under it.
 */
function answerOf(promise: InnerPromise): Promise<{ response: Response; controller?: AbortController | undefined }> {
  const props = (promise as unknown as { responsePromise?: Promise<{ response: Response; controller?: AbortController }> }).responsePromise;
  return props ?? promise.asResponse().then((response) => ({ response }));
}
