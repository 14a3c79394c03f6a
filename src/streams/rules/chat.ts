import { ascii, type Frame } from '../sse-frames.js';
import type { FrameKind, StreamRule } from './types.js';

const DONE = ascii('[DONE]');
const ERROR = ascii('error');
const ERROR_FIRST = ascii('{"error"');
const FINISH_KEY = ascii('"finish_reason"');
const UNDERSCORE = 95;
const COLON = 58;
const SPACE = 32;
const N = 110;

/**
 * Whether the data holds a `"finish_reason"` key, and whether its value is null. Looks back from
 * the end of the data (the key sits near the end of a chunk) for the key's underscore: quotes in
 * JSON strings are always escaped, so `"finish_reason"` in the bytes is a key, never text.
 */
function finishOf(frame: Frame): 'absent' | 'null' | 'set' {
  const buf = frame.dataBuf!;
  const start = frame.dataStart;
  for (let i = buf.lastIndexOf(UNDERSCORE, frame.dataEnd - 1); i - 7 >= start; i = buf.lastIndexOf(UNDERSCORE, i - 1)) {
    const at = i - 7;
    let k = 0;
    while (k < FINISH_KEY.length && buf[at + k] === FINISH_KEY[k]) k++;
    if (k < FINISH_KEY.length) continue;
    let j = at + k;
    while (buf[j] === SPACE) j++;
    if (buf[j] !== COLON) continue;
    j++;
    while (buf[j] === SPACE) j++;
    return buf[j] === N ? 'null' : 'set';
  }
  return 'absent';
}

function hasValue(value: unknown): boolean {
  if (value === null || value === undefined || value === '') return false;
  if (Array.isArray(value)) return value.length > 0;
  return typeof value !== 'object' || Object.keys(value).length > 0;
}

/** A choice carries output: any delta field but `role` with a value, or text (completions). */
function choiceHasOutput(choice: Record<string, unknown>): boolean {
  if (hasValue(choice.text)) return true;
  const delta = choice.delta;
  if (typeof delta !== 'object' || delta === null) return false;
  for (const [key, value] of Object.entries(delta)) if (key !== 'role' && hasValue(value)) return true;
  return false;
}

/**
 * Chat completions (and legacy completions): `data: [DONE]` ends the stream, and so does a
 * `finish_reason` on every choice (`n` of them). Before the first output every frame is parsed;
 * after it, with one choice, a frame is parsed only when it holds a non-null `finish_reason` or
 * starts with an `error` key. A chunk with no `finish_reason` at all (a usage chunk) carries no
 * output: reading back from a chunk's end goes past it to the frame that finished the choice.
 */
class ChatRule implements StreamRule {
  #output = false;
  readonly #seen = new Set<number>();
  readonly #finished = new Set<number>();
  readonly tailSafe: boolean;

  constructor(private readonly choices: number) {
    this.tailSafe = choices === 1;
  }

  classify(frame: Frame): FrameKind {
    if (frame.eventIs(ERROR)) return 'error';
    if (!frame.hasData) return 'none';
    if (frame.dataStartsWith(DONE)) return 'last';
    if (this.#output && this.choices === 1 && !frame.dataStartsWith(ERROR_FIRST)) {
      const finish = finishOf(frame);
      if (finish === 'null') return 'output';
      if (finish === 'absent') return 'none';
    }
    const data = frame.json();
    if (typeof data !== 'object' || data === null) return 'error';
    const { error, choices } = data as { error?: unknown; choices?: unknown };
    // The SDK throws on any chunk with a truthy `error`.
    if (error) return 'error';
    let output = false;
    if (Array.isArray(choices)) {
      for (const choice of choices as Record<string, unknown>[]) {
        if (typeof choice !== 'object' || choice === null) continue;
        const index = typeof choice.index === 'number' ? choice.index : 0;
        this.#seen.add(index);
        if (choice.finish_reason != null) this.#finished.add(index);
        if (choiceHasOutput(choice)) output = true;
      }
    }
    if (this.#finished.size >= this.choices && [...this.#seen].every((i) => this.#finished.has(i))) return 'done';
    if (output) this.#output = true;
    return output || this.#output ? 'output' : 'none';
  }
}

export function chatRule(body: unknown): StreamRule {
  const n = typeof body === 'object' && body !== null ? (body as { n?: unknown }).n : undefined;
  return new ChatRule(typeof n === 'number' && Number.isInteger(n) && n > 1 ? n : 1);
}
