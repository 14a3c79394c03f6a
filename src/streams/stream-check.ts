import type { Frame } from './sse-frames.js';
import { FrameReader } from './sse-frames.js';
import { ruleFor } from './rules/table.js';
import type { StreamRule } from './rules/types.js';

/**
 * Follows one stream frame by frame: whether it has produced output yet, whether it ended whole,
 * and the failure it reported, if any. Frames after the end change nothing (the SDK stops there too).
 */
export class StreamCheck {
  /** A frame with output (or the terminal frame) arrived. */
  output = false;
  /** The terminal frame arrived: the stream is whole (or reported its failure). */
  ended = false;
  /** Nothing after what arrived can matter (`[DONE]`, a named terminal event, an error frame). */
  final = false;
  /** The failure an error frame reported (its data, parsed when JSON), when one did. */
  failure: { payload: unknown } | undefined;
  readonly #rule: StreamRule;
  readonly #reader = new FrameReader((frame) => this.#frame(frame));

  constructor(path: string, body: unknown) {
    this.#rule = ruleFor(path, body);
  }

  push(chunk: Uint8Array): void {
    if (!this.ended) this.#reader.push(chunk);
  }

  /** Returns whether to read further back (only a frame without output lets it). */
  #frame(frame: Frame): boolean {
    if (this.ended) return false;
    const kind = this.#rule.classify(frame);
    if (kind === 'output') {
      if (!this.output && this.#rule.tailSafe) this.#reader.tail();
      this.output = true;
    } else if (kind === 'done') this.output = this.ended = true;
    else if (kind === 'last') this.output = this.ended = this.final = true;
    else if (kind === 'error') {
      this.ended = this.final = true;
      this.failure = { payload: frame.json() ?? frame.dataText() };
    }
    return kind === 'none';
  }
}
