// Where a resumable stream (a background Responses run) stands for its reader: the response's id
// and the sequence number of the last event handed out. Only whole frames are handed out, so that
// a stream cut inside a frame can continue after the last whole one: the SDK's parser never holds
// half a frame that the continued stream would not complete.

import { concat } from './body-read.js';

const EMPTY = new Uint8Array(0);
const decoder = new TextDecoder();
const LF = 10;
const CR = 13;

/** Just past each blank line (LF LF, CR LF CR LF, CR CR) of `bytes`: where each whole frame ends. */
function frameEnds(bytes: Uint8Array): number[] {
  const ends: number[] = [];
  let previous = -1; // where the previous line ended (just past its terminator)
  let lineStart = 0;
  for (let i = 0; i < bytes.length; i++) {
    const byte = bytes[i];
    if (byte !== LF && byte !== CR) continue;
    let next = i + 1;
    if (byte === CR && bytes[i + 1] === LF) next = i + 2;
    else if (byte === CR && i + 1 === bytes.length) break; // a CR LF may be split: wait for more
    if (i === lineStart && previous !== -1) ends.push(next); // an empty line: a frame ends
    previous = next;
    lineStart = next;
    i = next - 1;
  }
  return ends;
}

/** The `sequence_number` and the response's id in one frame's data, when it is JSON that has them. */
function fieldsOf(frame: string): { seq?: number; responseId?: string } {
  let data = '';
  for (const line of frame.split(/\r\n|\r|\n/)) {
    if (line.startsWith('data:')) data += (data ? '\n' : '') + line.slice(line[5] === ' ' ? 6 : 5);
  }
  if (!data) return {};
  try {
    const event = JSON.parse(data) as { sequence_number?: unknown; response?: { id?: unknown } };
    return {
      ...(typeof event.sequence_number === 'number' && { seq: event.sequence_number }),
      ...(typeof event.response?.id === 'string' && { responseId: event.response.id }),
    };
  } catch {
    return {};
  }
}

export class ResumePoint {
  /** The sequence number of the last event handed out; -1 before the first. */
  lastSeq = -1;
  #pending: Uint8Array | undefined;
  /** After a resume: events at or before `lastSeq` are dropped (a server that repeats some). */
  #deduping = false;

  constructor(
    /** The response's id: known from a retrieve's path, else learned from its first event. */
    public responseId: string | undefined,
  ) {}

  /** The whole frames that `chunk` completes, to hand out now; the rest waits for the next chunk. */
  take(chunk: Uint8Array): Uint8Array {
    const bytes = this.#pending ? concat([this.#pending, chunk], this.#pending.length + chunk.length) : chunk;
    this.#pending = undefined;
    const ends = frameEnds(bytes);
    const whole = ends.length ? ends[ends.length - 1]! : 0;
    if (whole < bytes.length) this.#pending = bytes.slice(whole);
    if (whole === 0) return EMPTY;
    let from = 0;
    let kept = 0;
    const parts: Uint8Array[] = [];
    for (const end of ends) {
      const { seq, responseId } = fieldsOf(decoder.decode(bytes.subarray(from, end)));
      this.responseId ??= responseId;
      const repeated = this.#deduping && seq !== undefined && seq <= this.lastSeq;
      if (!repeated) {
        parts.push(bytes.subarray(from, end));
        kept += end - from;
        if (seq !== undefined) {
          this.lastSeq = seq;
          this.#deduping = false;
        }
      }
      from = end;
    }
    return concat(parts, kept);
  }

  /** The stream continues on a new connection: the half frame of the old one is dropped. */
  restart(): void {
    this.#pending = undefined;
    this.#deduping = true;
  }
}
