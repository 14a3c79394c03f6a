import type { Frame } from '../sse-frames.js';

/**
 * What one frame means for the stream:
 * - `none`: carries no output (a lifecycle event, a role-only chunk, an unknown event);
 * - `output`: carries output for the caller;
 * - `done`: a terminal frame: the stream is whole, though frames may follow (a chat usage chunk);
 * - `last`: a terminal frame after which nothing matters (`[DONE]`, `response.completed`);
 * - `error`: the stream reports a failure (an error frame, `response.failed`) and ends.
 */
export type FrameKind = 'none' | 'output' | 'done' | 'last' | 'error';

/**
 * How one streaming endpoint tells output and its end. One instance per stream (rules may keep
 * state, such as which choices finished). `classify` runs for every frame: keep it cheap.
 */
export interface StreamRule {
  classify(frame: Frame): FrameKind;
  /**
   * Whether, once output has started, the newest frames of each chunk are enough: true when the
   * frames that end the stream always come after its output (see sse-frames.ts, `tail`).
   */
  readonly tailSafe: boolean;
}
