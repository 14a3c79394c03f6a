// Markers of a finished SSE stream: chat completions ([DONE], a finish_reason), the Responses API
// (response.completed/incomplete/failed), assistants (event: done) and error events. All ASCII,
// so they are searched in the raw bytes: no decoding, no regular expression on the hot path.
const MARKERS = [
  '[DONE]',
  '"finish_reason":"',
  '"finish_reason": "',
  'response.completed',
  'response.incomplete',
  'response.failed',
  'event: done',
  'event:done',
  'event: error',
  'event:error',
  '"type":"error"',
  '"type": "error"',
].map((m) => new TextEncoder().encode(m));
const SPAN = Math.max(...MARKERS.map((m) => m.length)) - 1;

// Node's Buffer searches natively; elsewhere a plain loop does (correct, slower on big chunks).
const NativeBuffer = (globalThis as { Buffer?: typeof Buffer }).Buffer;

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  if (NativeBuffer) return NativeBuffer.from(haystack.buffer, haystack.byteOffset, haystack.byteLength).indexOf(needle) !== -1;
  const first = needle[0]!;
  const last = haystack.length - needle.length;
  for (let i = haystack.indexOf(first); i !== -1 && i <= last; i = haystack.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && haystack[i + j] === needle[j]) j++;
    if (j === needle.length) return true;
  }
  return false;
}

/** Tells whether a stream fed chunk by chunk has carried its terminal event, across chunk boundaries. */
export class TerminalScanner {
  seen = false;
  #tail: Uint8Array = new Uint8Array(0);

  feed(chunk: Uint8Array): void {
    if (this.seen) return;
    // The bytes around the boundary with the previous chunk, where a marker may be split.
    const seam = new Uint8Array(this.#tail.length + Math.min(SPAN, chunk.length));
    seam.set(this.#tail);
    seam.set(chunk.subarray(0, SPAN), this.#tail.length);
    for (const marker of MARKERS) {
      if (contains(chunk, marker) || contains(seam, marker)) {
        this.seen = true;
        return;
      }
    }
    // A short chunk is wholly inside the seam: keep the seam's end, not just the chunk.
    this.#tail = (chunk.length > SPAN ? chunk : seam).slice(-SPAN);
  }
}

const NL = 10;
const CR = 13;
const DATA = new TextEncoder().encode('data:');

function startsWithAt(bytes: Uint8Array, at: number, prefix: Uint8Array): boolean {
  if (at + prefix.length > bytes.length) return false;
  for (let j = 0; j < prefix.length; j++) if (bytes[at + j] !== prefix[j]) return false;
  return true;
}

/**
 * True once `bytes` (the start of a stream) hold a complete SSE event with a data line. Works on
 * the bytes and stops at the first such event: a large first chunk is not decoded or split.
 */
export function hasFirstEvent(bytes: Uint8Array): boolean {
  let lineStart = 0;
  let sawData = false;
  for (let i = bytes.indexOf(NL); i !== -1; i = bytes.indexOf(NL, i + 1)) {
    const lineEnd = i > lineStart && bytes[i - 1] === CR ? i - 1 : i;
    if (lineEnd === lineStart) {
      // A blank line ends an event.
      if (sawData) return true;
    } else if (startsWithAt(bytes, lineStart, DATA)) sawData = true;
    lineStart = i + 1;
  }
  return false;
}
