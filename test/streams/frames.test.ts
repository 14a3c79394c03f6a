import { describe, expect, it } from 'vitest';
import { FrameReader } from '../../src/streams/sse-frames.js';
import { StreamCheck } from '../../src/streams/stream-check.js';
import { RECORDINGS, TRICKY, type Recording } from '../fixtures/sse-recordings.js';

const encode = (text: string) => new TextEncoder().encode(text);

/** Frames as a plain reading of the spec sees them: decode all, split lines, dispatch on blank. */
function oracleFrames(bytes: Uint8Array): { event: string | undefined; data: string | undefined }[] {
  // A frame counts only once its blank line arrived; a trailing CR may still be half of a CRLF.
  const text = new TextDecoder().decode(bytes);
  const lines = text.split(/\r\n|\r|\n/);
  lines.pop(); // the unfinished last line (or '' after a final line end)
  const frames: { event: string | undefined; data: string | undefined }[] = [];
  let event: string | undefined;
  let data: string[] = [];
  for (const line of lines) {
    if (line === '') {
      if (event !== undefined || data.length) frames.push({ event, data: data.length ? data.join('\n') : undefined });
      event = undefined;
      data = [];
      continue;
    }
    if (line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') event = value;
  }
  return frames;
}

/** What a stream prefix amounts to, worked out from the oracle's frames with JSON.parse on each. */
function oracleOutcome(recording: Recording, bytes: Uint8Array): string {
  let output = false;
  const seen = new Set<number>();
  const finished = new Set<number>();
  const n = (recording.body as { n?: number }).n ?? 1;
  const chat = recording.path.includes('chat/completions');
  for (const frame of oracleFrames(bytes)) {
    if (frame.data?.startsWith('[DONE]')) return 'ended';
    const data = frame.data === undefined ? undefined : (JSON.parse(frame.data) as Record<string, unknown>);
    if (chat) {
      if (frame.event === 'error' || data?.error) return 'failed';
      for (const c of (data?.choices ?? []) as { index: number; finish_reason: string | null; delta: Record<string, unknown> }[]) {
        seen.add(c.index);
        if (c.finish_reason) finished.add(c.index);
        if (Object.entries(c.delta ?? {}).some(([k, v]) => k !== 'role' && v !== null && v !== '')) output = true;
      }
      if (finished.size >= n && [...seen].every((i) => finished.has(i))) return 'ended';
    } else {
      const name = frame.event ?? (data?.type as string | undefined);
      if (name === 'error' || name === 'response.failed') return 'failed';
      if (name && /^(response\.(completed|incomplete)|image_generation\.completed|transcript\.text\.done)$/.test(name)) return 'ended';
      if (name && !['response.created', 'response.in_progress', 'response.queued'].includes(name)) output = true;
    }
  }
  return output ? 'output' : 'nothing';
}

function outcomeOf(check: StreamCheck): string {
  if (check.failure) return 'failed';
  if (check.ended) return 'ended';
  return check.output ? 'output' : 'nothing';
}

function feed(recording: Recording, chunks: Uint8Array[]): string {
  const check = new StreamCheck(recording.path, recording.body);
  for (const chunk of chunks) check.push(chunk);
  return outcomeOf(check);
}

/** A deterministic random split of `bytes` into pieces of 1 to `max` bytes. */
function split(bytes: Uint8Array, seed: number, max: number): Uint8Array[] {
  let s = seed;
  const random = () => (s = (s * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff;
  const out: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const size = 1 + Math.floor(random() * max);
    out.push(bytes.slice(at, at + size));
    at += size;
  }
  return out;
}

describe('SSE frame reader', () => {
  const frames = (chunks: string[] | Uint8Array[]) => {
    const seen: { event: string | undefined; data: string | undefined }[] = [];
    const reader = new FrameReader((f) => seen.push({ event: f.eventName(), data: f.hasData ? f.dataText() : undefined }) > 0);
    for (const c of chunks) reader.push(typeof c === 'string' ? encode(c) : c);
    return seen;
  };

  it('reads fields as the spec says: LF, CRLF, CR, comments, multi-line data, no space after the colon, a BOM', () => {
    expect(frames(['\ufeffdata: a\n\n'])).toEqual([{ event: undefined, data: 'a' }]);
    expect(frames(['data:a\r\ndata:  b\r\n\r\n'])).toEqual([{ event: undefined, data: 'a\n b' }]);
    expect(frames(['event: x\rdata: 1\r\r'])).toEqual([{ event: 'x', data: '1' }]);
    expect(frames([': keep-alive\n\n', 'id: 7\nretry: 10\ndata: z\n\n'])).toEqual([{ event: undefined, data: 'z' }]);
    expect(frames(['data\n\n'])).toEqual([{ event: undefined, data: '' }]);
  });

  it('never dispatches a frame whose blank line has not arrived', () => {
    expect(frames(['data: a\n'])).toEqual([]);
    expect(frames(['data: a\n', '\n'])).toEqual([{ event: undefined, data: 'a' }]);
  });

  it('gives the same frames for any chunking, a CRLF and UTF-8 sequences split included', () => {
    for (const recording of RECORDINGS) {
      const bytes = encode(recording.text);
      const whole = frames([bytes]);
      expect(whole.length).toBeGreaterThan(1);
      expect(whole).toEqual(oracleFrames(bytes));
      for (const max of [1, 2, 3, 7, 64]) expect(frames(split(bytes, max * 31 + 1, max)), `${recording.name}, max ${max}`).toEqual(whole);
    }
  });
});

describe('stream check: output and terminal frames per endpoint', () => {
  it('the tricky content really is in the recordings', () => {
    expect(RECORDINGS.filter((r) => r.text.includes(JSON.stringify(TRICKY).slice(1, -1))).length).toBeGreaterThanOrEqual(5);
  });

  for (const recording of RECORDINGS) {
    it(`${recording.name}: whole, it ends; cut at every byte and re-chunked, it agrees with a plain reading`, () => {
      const bytes = encode(recording.text);
      expect(feed(recording, [bytes])).toBe('ended');
      const outcomes = new Set<string>();
      for (let cut = 0; cut <= bytes.length; cut++) {
        const prefix = bytes.subarray(0, cut);
        const expected = oracleOutcome(recording, prefix);
        outcomes.add(expected);
        expect(feed(recording, [prefix]), `${recording.name} cut at ${cut}`).toBe(expected);
        expect(feed(recording, split(prefix, cut, 9)), `${recording.name} cut at ${cut}, re-chunked`).toBe(expected);
      }
      // Positive control: the prefixes cover the stages a stream goes through.
      expect([...outcomes].sort()).toEqual(['ended', 'nothing', 'output']);
    });
  }

  it('chat: one choice of two finished is not the end', () => {
    const recording = RECORDINGS.find((r) => r.name.startsWith('chat, n=2'))!;
    const text = recording.text.split('\r\n\r\n');
    const firstFinished = text.findIndex((frame) => frame.includes('"finish_reason":"stop"'));
    const prefix = encode(text.slice(0, firstFinished + 1).join('\r\n\r\n') + '\r\n\r\n');
    expect(feed(recording, [prefix])).toBe('output');
  });

  it('lifecycle frames and role-only chunks carry no output; error frames are failures', () => {
    const responses = { name: 'r', path: '/responses', body: {}, text: '' };
    const lifecycle = 'event: response.created\ndata: {"type":"response.created"}\n\nevent: response.in_progress\ndata: {}\n\n';
    expect(feed(responses, [encode(lifecycle)])).toBe('nothing');
    expect(feed(responses, [encode(`${lifecycle}event: error\ndata: {"type":"error","code":"server_error"}\n\n`)])).toBe('failed');
    const chat = { name: 'c', path: '/chat/completions', body: {}, text: '' };
    expect(feed(chat, [encode('data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n')])).toBe('nothing');
    expect(feed(chat, [encode('data: {"error":{"type":"server_error","message":"boom"}}\n\n')])).toBe('failed');
    expect(feed(chat, [encode('data: <html>502</html>\n\n')])).toBe('failed');
  });
});
