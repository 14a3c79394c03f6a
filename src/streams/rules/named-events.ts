import { ascii, type Frame } from '../sse-frames.js';
import type { FrameKind, StreamRule } from './types.js';

const DONE = ascii('[DONE]');
const TYPE_PREFIX = ascii('{"type":"');
const QUOTE = 34;

/** Event names for one endpoint: which end the stream, which report a failure, which carry no output. */
export interface EventNames {
  done: readonly string[];
  failed: readonly string[];
  lifecycle: readonly string[];
}

interface Compiled {
  name: string;
  bytes: Uint8Array;
  kind: FrameKind;
}

function compile(names: EventNames): Compiled[] {
  const all: Compiled[] = [];
  for (const name of names.done) all.push({ name, bytes: ascii(name), kind: 'last' });
  for (const name of names.failed) all.push({ name, bytes: ascii(name), kind: 'error' });
  for (const name of names.lifecycle) all.push({ name, bytes: ascii(name), kind: 'none' });
  return all;
}

function equalRange(buf: Uint8Array, start: number, end: number, pattern: Uint8Array): boolean {
  if (end - start !== pattern.length) return false;
  for (let i = 0; i < pattern.length; i++) if (buf[start + i] !== pattern[i]) return false;
  return true;
}

/**
 * Endpoints whose frames are named events (the Responses API, transcriptions, image streams,
 * assistants runs). The name is the `event` field, or the data's `type` when there is no `event`
 * line; any other named frame carries output.
 */
class NamedEventRule implements StreamRule {
  readonly tailSafe = true;

  constructor(private readonly names: readonly Compiled[]) {}

  classify(frame: Frame): FrameKind {
    if (frame.dataStartsWith(DONE)) return 'last';
    if (frame.eventBuf) {
      for (const n of this.names) if (equalRange(frame.eventBuf, frame.eventStart, frame.eventEnd, n.bytes)) return n.kind;
      return frame.hasData ? 'output' : 'none';
    }
    if (!frame.hasData) return 'none';
    // No event line: the name is the data's `type`; read it from the bytes when it comes first.
    if (frame.dataStartsWith(TYPE_PREFIX)) {
      const buf = frame.dataBuf!;
      const start = frame.dataStart + TYPE_PREFIX.length;
      const end = buf.indexOf(QUOTE, start);
      if (end !== -1 && end < frame.dataEnd && buf[end - 1] !== 92) {
        for (const n of this.names) if (equalRange(buf, start, end, n.bytes)) return n.kind;
        return 'output';
      }
    }
    const data = frame.json();
    if (typeof data !== 'object' || data === null) return 'error';
    const type = (data as { type?: unknown }).type;
    for (const n of this.names) if (n.name === type) return n.kind;
    return 'output';
  }
}

/** Compiled at the first stream of its kind, not at import: a cold start pays for no table it never uses. */
export function namedEventRule(names: EventNames): () => StreamRule {
  let compiled: Compiled[] | undefined;
  return () => new NamedEventRule((compiled ??= compile(names)));
}
