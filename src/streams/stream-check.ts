import type { Frame } from './sse-frames.js';
import { ascii, FrameReader } from './sse-frames.js';
import { ruleFor } from './rules/table.js';
import type { StreamRule } from './rules/types.js';

// The Responses events that show a stored response's id and, at the end, its output items' ids.
const SHOWS_IDS = ['response.created', 'response.completed'].map((name) => ({ event: ascii(name), data: ascii(`{"type":"${name}"`) }));

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

  /** `onIds`: hears the events that show stored ids (see SHOWS_IDS), parsed. */
  constructor(
    path: string,
    body: unknown,
    private readonly onIds?: (event: unknown) => void,
  ) {
    this.#rule = ruleFor(path, body);
  }

  push(chunk: Uint8Array): void {
    if (!this.ended) this.#reader.push(chunk);
  }

  /** A resumed stream: its bytes start with a whole frame (see resume-point.ts). */
  restart(): void {
    this.#reader.restart();
  }

  /** Returns whether to read further back (only a frame without output lets it). */
  #frame(frame: Frame): boolean {
    if (this.ended) return false;
    const kind = this.#rule.classify(frame);
    if (this.onIds && SHOWS_IDS.some((s) => frame.eventIs(s.event) || (!frame.hasEvent && frame.dataStartsWith(s.data)))) {
      this.onIds(frame.json());
    }
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
