import { IncompleteStreamError, StreamIdleTimeoutError } from './errors.js';
import { errorOfFrame } from './frame-errors.js';
import { concat } from './body-read.js';
import type { ResumePoint } from './resume-point.js';
import type { StreamCheck } from './stream-check.js';

/** What the call learns from a stream after it was handed out: the breaker's verdict. */
export interface StreamWatch {
  /** The terminal frame arrived: the stream succeeded. */
  whole(): void;
  /** It failed after output reached the caller: cut, stalled, or an error frame. */
  broken(error: unknown): void;
  /** The caller stopped reading (a `break`, an abort) before the end: no verdict. */
  abandoned?: (() => void) | undefined;
  /** Hears the events that show the ids of stored objects (a Responses stream's response). */
  stored?: ((event: unknown) => void) | undefined;
}

/** How a stream that can continue (a background Responses run) does: call/resume.ts builds it. */
export interface Resumer {
  /** The response's id and the last event handed out. */
  readonly point: ResumePoint;
  /** Continuations of one stream at most. */
  readonly attempts: number;
  /**
   * Waits, then opens the stream after `point.lastSeq` on the same endpoint. Resolves undefined
   * when it must not go on (the response is gone, the caller aborted); rejects when this try
   * failed and another may work.
   */
  open(attempt: number, error: Error): Promise<ReadableStreamDefaultReader<Uint8Array> | undefined>;
}

export interface SourceOptions {
  /** Longest silence after the first output. */
  idleMs: number;
  signal: AbortSignal;
  endpoint: string;
  watch: StreamWatch;
  /** Set when the stream can continue after a cut. */
  resume?: Resumer | undefined;
}

const DONE: ReadableStreamReadDoneResult<Uint8Array> = { done: true, value: undefined };
/** How long the rest of a body after its terminal frame may take to arrive (see #finish). */
const DRAIN_MS = 100;

/**
 * The bytes of a stream after its first output: the chunks read inside the attempt, then the
 * upstream's, each passed through the stream's check. Reading ends with `IncompleteStreamError`
 * when the stream stops before its terminal frame, and with `StreamIdleTimeoutError` when it goes
 * silent for `idleMs` while someone waits. Read one chunk at a time (a reader's contract), by the
 * SDK directly (SourceBody in guard-stream.ts) or through the Response's `body`: one consumer, as for any body.
 */
export class GuardedSource {
  #head: Uint8Array[] | undefined;
  #reported = false;
  /** Ended for the consumer: the terminal frame passed, or it cancelled. */
  #closed = false;
  /** What the upstream or the caller failed with: our errors, or the abort's (an Error in every runtime). */
  #error: Error | undefined;
  /** After the terminal frame: the end of the body (see #finish). */
  #drained: Promise<ReadableStreamReadDoneResult<Uint8Array>> | undefined;
  // One timer per stream, not one per chunk: it only looks at when the pending read started.
  #readingSince = 0;
  #stalled = false;
  #timer: ReturnType<typeof setTimeout> | undefined;
  /** The connection being read: the first, or the latest continuation's. */
  #reader: ReadableStreamDefaultReader<Uint8Array>;
  /** Continuations tried, and those that connected. */
  #resumes = 0;
  #continued = 0;

  constructor(
    reader: ReadableStreamDefaultReader<Uint8Array>,
    head: Uint8Array[],
    private readonly check: StreamCheck,
    private readonly headers: Headers,
    private readonly o: SourceOptions,
  ) {
    this.#reader = reader;
    // A stream that can continue hands out whole frames only (resume-point.ts).
    this.#head =
      o.resume ?
        [
          o.resume.point.take(
            concat(
              head,
              head.reduce((n, c) => n + c.length, 0),
            ),
          ),
        ]
      : head;
    if (check.ended) this.#report();
    if (check.final) this.#finish();
  }

  /** The next chunk, or the end; rejects with the stream's failure. */
  read(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const head = this.#head;
    if (head) {
      const value = head.shift()!;
      if (head.length === 0) this.#head = undefined;
      return Promise.resolve({ done: false, value });
    }
    if (this.#error !== undefined) return Promise.reject(this.#error);
    if (this.#closed) return this.#drained ?? Promise.resolve(DONE);
    return this.#pull();
  }

  /**
   * The consumer stops reading before the end: no verdict, and the connection closes. After the
   * terminal frame, where openai 7 cancels, the rest of the body is still read (see #finish),
   * and the cancel ends with it.
   */
  cancel(reason?: unknown): Promise<void> {
    this.#head = undefined;
    if (this.#drained) return this.#drained.then(() => undefined);
    this.#stop();
    if (!this.#reported) this.o.watch.abandoned?.();
    this.#reported = this.#closed = true;
    return this.#reader.cancel(reason);
  }

  // One read of the upstream per chunk, through callbacks rather than an async function: a
  // 200-event stream makes 200 of these, and an async function's suspend and resume cost more
  // than the rest of the guard's work per chunk (BENCHMARKS.md, fifth round).
  #pull(): Promise<ReadableStreamReadResult<Uint8Array>> {
    this.#readingSince = Date.now();
    if (!this.#timer) this.#arm(this.o.idleMs);
    return this.#reader.read().then(this.#onRead, this.#onReadError);
  }

  readonly #onRead = (
    result: ReadableStreamReadResult<Uint8Array>,
  ): ReadableStreamReadResult<Uint8Array> | Promise<ReadableStreamReadResult<Uint8Array>> => {
    const { check, o } = this;
    this.#readingSince = 0;
    if (this.#closed) return DONE;
    if (result.done) {
      this.#stop();
      if (check.ended) return this.#end();
      return this.#resumeOrFail(this.#stalled ? new StreamIdleTimeoutError(o.endpoint, o.idleMs) : new IncompleteStreamError(o.endpoint));
    }
    check.push(result.value);
    const value = o.resume ? o.resume.point.take(result.value) : result.value;
    if (check.ended) this.#report();
    if (check.final) this.#finish();
    // Only part of a frame came (a stream that can continue hands out whole ones): read on.
    if (value.length === 0) return this.#closed ? (this.#drained ?? DONE) : this.#pull();
    return value === result.value ? result : { done: false, value };
  };

  readonly #onReadError = (error: unknown): ReadableStreamReadResult<Uint8Array> | Promise<ReadableStreamReadResult<Uint8Array>> => {
    const { check, o } = this;
    this.#stop();
    // A stall or a lost connection after the terminal frame cost nothing: the output is whole.
    if (check.ended || this.#closed) return this.#end();
    // An abort (user signal, `break`) passes through: the SDK's Stream ends quietly on it.
    if (o.signal.aborted && !this.#stalled) {
      if (!this.#reported) o.watch.abandoned?.();
      this.#reported = true;
      this.#error = error as Error;
      throw error;
    }
    return this.#resumeOrFail(
      this.#stalled ? new StreamIdleTimeoutError(o.endpoint, o.idleMs) : new IncompleteStreamError(o.endpoint, error),
    );
  };

  /** After a cut or a stall: the continued stream's next chunk, or the failure. */
  async #resumeOrFail(failure: Error): Promise<ReadableStreamReadResult<Uint8Array>> {
    if (await this.#resume(failure)) return this.#pull();
    return this.#fail(failure);
  }

  /** Continues a stream that can, on a new connection; false when it cannot (any more). */
  async #resume(failure: Error): Promise<boolean> {
    const resume = this.o.resume;
    if (!resume || resume.point.responseId === undefined) return false;
    while (this.#resumes < resume.attempts && !this.#closed) {
      this.#resumes++;
      let reader: ReadableStreamDefaultReader<Uint8Array> | undefined;
      try {
        reader = await resume.open(this.#resumes, failure);
      } catch {
        continue; // this try failed: the next may work
      }
      if (!reader) return false;
      if (this.#closed) {
        // The caller stopped reading while the continuation connected: let it go.
        reader.cancel().catch(() => {});
        return false;
      }
      this.#continued++;
      this.#reader = reader;
      this.#stalled = false;
      this.check.restart();
      resume.point.restart();
      return true;
    }
    return false;
  }

  /**
   * Nothing after `[DONE]` or a terminal event matters, but the rest of the body is still read:
   * a body read to its end leaves the connection in the pool (cancelling it closes the socket, and
   * the next call pays a connect). The consumer's next read ends when the body does, or after
   * DRAIN_MS for a server that keeps the response open: then the connection is let go.
   */
  #finish(): void {
    this.#stop();
    this.#closed = true;
    const reader = this.#reader;
    let timer: ReturnType<typeof setTimeout> | undefined;
    this.#drained = new Promise<void>((resolve) => {
      timer = setTimeout(() => {
        reader.cancel().catch(() => {});
        resolve();
      }, DRAIN_MS);
      const drain = (): unknown => reader.read().then(({ done }) => (done ? resolve() : drain()), resolve);
      drain();
    }).then(() => {
      clearTimeout(timer);
      return DONE;
    });
  }

  #end(): ReadableStreamReadDoneResult<Uint8Array> {
    this.#closed = true;
    return DONE;
  }

  #fail(error: Error): never {
    if (error instanceof IncompleteStreamError) error.resumes = this.#continued;
    // The caller aborted while the stream waited to continue: its own stop, not the upstream's fault.
    if (this.#resumes > 0 && this.o.signal.aborted) {
      if (!this.#reported) this.o.watch.abandoned?.();
      this.#reported = true;
      // As an abort during a read ends (the SDK's Stream ends quietly on an AbortError).
      const reason: unknown = this.o.signal.reason;
      this.#error = reason instanceof Error ? reason : new DOMException('This operation was aborted', 'AbortError');
      throw this.#error;
    }
    this.#report(error);
    this.#error = error;
    throw error;
  }

  /** Tells the call once: at the terminal frame, or at the failure. */
  #report(error?: unknown): void {
    if (this.#reported) return;
    this.#reported = true;
    const { watch } = this.o;
    if (error !== undefined) watch.broken(error);
    else if (this.check.failure) watch.broken(errorOfFrame(this.check.failure.payload, this.headers));
    else watch.whole();
  }

  #arm(ms: number): void {
    this.#timer = setTimeout(this.#onIdle, ms);
    this.#timer.unref?.();
  }

  readonly #onIdle = () => {
    this.#timer = undefined;
    if (this.#readingSince === 0) return; // nobody is reading: the caller is slow, not the upstream
    const quietMs = Date.now() - this.#readingSince;
    if (quietMs < this.o.idleMs) return this.#arm(this.o.idleMs - quietMs);
    this.#stalled = true;
    // Cancelling the read closes the connection. Not an abort of the attempt's controller: the
    // SDK takes that for the caller's own abort and ends quietly (openai 7), or its helpers throw
    // APIUserAbortError for an answer that may be whole.
    this.#reader.cancel().catch(() => {});
  };

  #stop(): void {
    this.#readingSince = 0;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
