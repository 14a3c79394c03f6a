// Server-sent events read as the spec reads them (WHATWG HTML, "event stream interpretation"):
// lines end in LF, CRLF or CR, a blank line dispatches the frame, `:` starts a comment, `data`
// lines join with LF, one space after the colon is dropped. It works on bytes, so a chunk may end
// anywhere, inside a line, a CRLF or a UTF-8 sequence. A frame's fields are kept as ranges of the
// bytes they arrived in (no copy, no decoding) until a rule asks for their text.
//
// Two ways to read. `all`: every frame, in order (until a stream's first output, and for streams
// whose rule needs every frame). `tail`: after the first output, only the newest frames of each
// chunk, newest first, until the rule has seen one that is plain output: the frames that end a
// stream (a terminal frame, a usage chunk, an error frame) come after all of its output, so the
// frames in the middle of a chunk need not be read at all. That keeps a 200-frame chunk to a few
// frames' work.

const LF = 10;
const CR = 13;
const COLON = 58;
const SPACE = 32;

const encoder = new TextEncoder();
const ascii = (text: string) => encoder.encode(text);
const DATA = ascii('data');
const EVENT = ascii('event');
const decoder = new TextDecoder();

function equalAt(bytes: Uint8Array, at: number, end: number, pattern: Uint8Array): boolean {
  if (end - at !== pattern.length) return false;
  for (let i = 0; i < pattern.length; i++) if (bytes[at + i] !== pattern[i]) return false;
  return true;
}

/** One dispatched frame. The reader reuses a single instance: read it in the callback only. */
export class Frame {
  /** The chunk being read; fields inside it are ranges of it, others are copies. */
  chunk: Uint8Array | undefined;
  eventBuf: Uint8Array | undefined;
  eventStart = 0;
  eventEnd = 0;
  dataBuf: Uint8Array | undefined;
  dataStart = 0;
  dataEnd = 0;
  #json: unknown;
  #parsed = false;

  /** Whether the `event` field is exactly `name` (given as bytes, see {@link ascii}). */
  eventIs(name: Uint8Array): boolean {
    return this.eventBuf !== undefined && equalAt(this.eventBuf, this.eventStart, this.eventEnd, name);
  }

  get hasEvent(): boolean {
    return this.eventBuf !== undefined;
  }

  eventName(): string | undefined {
    return this.eventBuf && decoder.decode(this.eventBuf.subarray(this.eventStart, this.eventEnd));
  }

  get hasData(): boolean {
    return this.dataBuf !== undefined;
  }

  /** Whether the data starts with `prefix` (bytes). */
  dataStartsWith(prefix: Uint8Array): boolean {
    const buf = this.dataBuf;
    if (!buf || this.dataEnd - this.dataStart < prefix.length) return false;
    for (let i = 0; i < prefix.length; i++) if (buf[this.dataStart + i] !== prefix[i]) return false;
    return true;
  }

  /** The data's bytes at `offset` from its start (for a cheap look past a prefix). */
  dataByte(offset: number): number | undefined {
    return this.dataBuf && this.dataStart + offset < this.dataEnd ? this.dataBuf[this.dataStart + offset] : undefined;
  }

  /** The data decoded from UTF-8. */
  dataText(): string {
    return this.dataBuf ? decoder.decode(this.dataBuf.subarray(this.dataStart, this.dataEnd)) : '';
  }

  /** The data parsed as JSON once, or undefined when it is not JSON. */
  json(): unknown {
    if (!this.#parsed) {
      this.#parsed = true;
      try {
        this.#json = JSON.parse(this.dataText());
      } catch {
        this.#json = undefined;
      }
    }
    return this.#json;
  }

  reset(): void {
    this.eventBuf = this.dataBuf = undefined;
    this.#parsed = false;
    this.#json = undefined;
  }
}

export { ascii };

/**
 * Splits a byte stream into frames. `push()` each chunk. `onFrame` sees the frames (see the two
 * ways to read above) and returns whether to go on: in `tail` reading, `false` stops the walk back
 * through the chunk. A frame still open when the stream ends is not complete and is never
 * dispatched (as in the spec and the SDK).
 */
export class FrameReader {
  readonly #frame = new Frame();
  /** `all` reading: the start of a line that a previous chunk began and did not end. */
  #carry: Uint8Array | undefined;
  /** The previous chunk ended in CR: a LF at the start of this one belongs to it. */
  #afterCR = false;
  #started = false;
  /** A line ended in a lone CR: the walk back (which splits at LF) cannot read this stream. */
  #crOnly = false;
  #wantTail = false;
  #tail = false;
  /** `tail` reading: the bytes after the last complete frame. */
  #pending: Uint8Array | undefined;
  /** `tail` reading: the lines of the frame being collected, last line first. */
  readonly #starts: number[] = [];
  readonly #ends: number[] = [];

  constructor(private readonly onFrame: (frame: Frame) => boolean) {}

  /** From the next frame on, read only the newest frames of each chunk (when this stream allows). */
  tail(): void {
    this.#wantTail = true;
  }

  /** The stream continues on a new connection: the half line and frame of the old one are dropped. */
  restart(): void {
    this.#carry = this.#pending = undefined;
    this.#afterCR = false;
    this.#frame.reset();
  }

  push(input: Uint8Array): void {
    let chunk = input;
    if (!this.#started && chunk.length > 0) {
      this.#started = true;
      // The spec drops one byte-order mark at the very start of the stream.
      if (chunk[0] === 0xef && chunk[1] === 0xbb && chunk[2] === 0xbf) chunk = chunk.subarray(3);
    }
    if (this.#tail) return this.#tailPush(chunk);
    if (this.#afterCR) {
      this.#afterCR = false;
      if (chunk[0] === LF) chunk = chunk.subarray(1);
    }
    if (this.#carry) {
      chunk = join(this.#carry, chunk);
      this.#carry = undefined;
    }
    this.#frame.chunk = chunk;
    let start = 0;
    while (start < chunk.length) {
      let end = chunk.indexOf(LF, start);
      let next = end + 1;
      // A CR before that LF ends the line instead; looked for within the line only, so that a
      // large chunk is not scanned whole for a CR it does not have.
      const found =
        end === -1 ? chunk.indexOf(CR, start)
        : end > start ? chunk.subarray(start, end).indexOf(CR)
        : -1;
      const cr = end === -1 || found === -1 ? found : start + found;
      {
        if (cr !== -1) {
          end = cr;
          if (cr + 1 === chunk.length) {
            this.#afterCR = true;
            next = cr + 1;
          } else if (chunk[cr + 1] === LF) next = cr + 2;
          else {
            next = cr + 1;
            this.#crOnly = true;
          }
        }
      }
      if (end === -1) {
        this.#carry = chunk.slice(start);
        break;
      }
      if (this.#line(chunk, start, end) && this.#wantTail && !this.#crOnly && !this.#afterCR) {
        // A frame just ended: the rest of the chunk is read from its newest frame back.
        this.#tail = true;
        this.#frame.chunk = undefined;
        return this.#tailPush(chunk.subarray(next));
      }
      start = next;
    }
    this.#frame.chunk = undefined;
  }

  /** One line of `all` reading; true when it ended a frame. */
  #line(buf: Uint8Array, start: number, end: number): boolean {
    const frame = this.#frame;
    if (start === end) {
      if (frame.hasData || frame.hasEvent) this.onFrame(frame);
      frame.reset();
      return true;
    }
    this.#field(buf, start, end);
    return false;
  }

  #field(buf: Uint8Array, start: number, end: number): void {
    if (buf[start] === COLON) return; // a comment, such as a keep-alive
    const frame = this.#frame;
    let colon = buf.indexOf(COLON, start);
    if (colon === -1 || colon > end) colon = end;
    let value = colon + 1;
    if (value < end && buf[value] === SPACE) value++;
    if (value > end) value = end;
    if (equalAt(buf, start, colon, DATA)) this.#data(buf, value, end);
    else if (equalAt(buf, start, colon, EVENT)) {
      frame.eventBuf = buf;
      frame.eventStart = value;
      frame.eventEnd = end;
    }
    // `id` and `retry` change nothing a rule reads; other fields are ignored, as the spec says.
  }

  #data(buf: Uint8Array, start: number, end: number): void {
    const frame = this.#frame;
    if (!frame.dataBuf) {
      frame.dataBuf = buf;
      frame.dataStart = start;
      frame.dataEnd = end;
      return;
    }
    // A second data line: the data is the lines joined with LF (rare; copied).
    const first = frame.dataBuf.subarray(frame.dataStart, frame.dataEnd);
    const joined = new Uint8Array(first.length + 1 + end - start);
    joined.set(first);
    joined[first.length] = LF;
    joined.set(buf.subarray(start, end), first.length + 1);
    frame.dataBuf = joined;
    frame.dataStart = 0;
    frame.dataEnd = joined.length;
  }

  /** `tail` reading: the complete frames of this chunk, newest first, while `onFrame` says go on. */
  #tailPush(chunk: Uint8Array): void {
    let input = chunk;
    if (this.#afterCR) {
      this.#afterCR = false;
      if (input[0] === LF) input = input.subarray(1);
    }
    if (input.length === 0) return;
    const bytes = this.#pending ? join(this.#pending, input) : input;
    this.#pending = undefined;
    const end = lastFrameEnd(bytes);
    if (end === -1) {
      this.#pending = bytes;
      return;
    }
    if (end < bytes.length) this.#pending = bytes.subarray(end);
    // A blank line that ends in the chunk's last byte, a CR: a LF next belongs to it.
    else if (bytes[end - 1] === CR) this.#afterCR = true;
    this.#frame.chunk = bytes;
    // Walk back line by line from the blank line that ends the newest frame.
    let lf = end - 1;
    let count = 0;
    for (;;) {
      const prev = lf > 0 ? bytes.lastIndexOf(LF, lf - 1) : -1;
      const start = prev + 1;
      const stop = lf > start && bytes[lf - 1] === CR ? lf - 1 : lf;
      if (start === stop) {
        if (count > 0 && !this.#dispatchCollected(bytes, count)) break;
        count = 0;
      } else {
        this.#starts[count] = start;
        this.#ends[count] = stop;
        count++;
      }
      if (prev === -1) {
        if (count > 0) this.#dispatchCollected(bytes, count);
        break;
      }
      lf = prev;
    }
    this.#frame.chunk = undefined;
  }

  #dispatchCollected(bytes: Uint8Array, count: number): boolean {
    const frame = this.#frame;
    for (let k = count - 1; k >= 0; k--) this.#field(bytes, this.#starts[k]!, this.#ends[k]!);
    const go = frame.hasData || frame.hasEvent ? this.onFrame(frame) : true;
    frame.reset();
    return go;
  }
}

function join(a: Uint8Array, b: Uint8Array): Uint8Array {
  const joined = new Uint8Array(a.length + b.length);
  joined.set(a);
  joined.set(b, a.length);
  return joined;
}

/** Just past the last blank line (LF LF, LF CR LF, or LF CR at the end), or -1: where the newest complete frame ends. */
function lastFrameEnd(bytes: Uint8Array): number {
  const n = bytes.length;
  if (n >= 2 && bytes[n - 1] === CR && bytes[n - 2] === LF) return n;
  for (let i = bytes.lastIndexOf(LF); i > 0; i = bytes.lastIndexOf(LF, i - 1)) {
    if (bytes[i - 1] === LF || (bytes[i - 1] === CR && i >= 2 && bytes[i - 2] === LF)) return i + 1;
  }
  return -1;
}
