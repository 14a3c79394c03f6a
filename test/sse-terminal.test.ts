import { describe, expect, it } from 'vitest';
import { hasFirstEvent, TerminalScanner } from '../src/streams/sse-terminal.js';

const bytes = (text: string) => new TextEncoder().encode(text);
function scan(chunks: string[]): boolean {
  const scanner = new TerminalScanner();
  for (const chunk of chunks) scanner.feed(bytes(chunk));
  return scanner.seen;
}
/** Every way of cutting `text` into two chunks, and byte by byte. */
function cuts(text: string): string[][] {
  const all = Array.from({ length: text.length + 1 }, (_, i) => [text.slice(0, i), text.slice(i)]);
  return [...all, [...text]];
}

describe('TerminalScanner', () => {
  const terminal = [
    'data: {"choices":[{"delta":{},"finish_reason":"stop"}]}\n\n',
    'data: [DONE]\n\n',
    'event: response.completed\ndata: {"type":"response.completed"}\n\n',
    'data: {"type":"response.incomplete"}\n\n',
    'event: done\ndata: [DONE]\n\n',
    'event: error\ndata: {"error":{"message":"x"}}\n\n',
    'data: {"type": "error", "message": "x"}\n\n',
  ];
  for (const text of terminal) {
    it(`sees the end in ${JSON.stringify(text.slice(0, 40))}, however the bytes are cut`, () => {
      for (const chunks of cuts(text))
        expect(scan(['data: {"choices":[{"delta":{"content":"hi"},"finish_reason":null}]}\n\n', ...chunks])).toBe(true);
    });
  }

  it('does not take ordinary chunks for an end', () => {
    const chunks = [
      'data: {"choices":[{"delta":{"content":"hi"},"finish_reason":null}]}\n\n',
      'event: response.output_text.delta\ndata: {"type":"response.output_text.delta","delta":"done"}\n\n',
      ': keep-alive\n\n',
    ];
    for (const split of cuts(chunks.join(''))) expect(scan(split)).toBe(false);
  });
});

describe('hasFirstEvent', () => {
  const cases: [string, boolean][] = [
    ['data: {"a":1}\n\n', true],
    ['data: {"a":1}\r\n\r\n', true],
    ['event: response.created\ndata: {}\n\n', true],
    [': keep-alive\n\ndata: {}\n\n', true],
    [': keep-alive\n\n', false],
    ['data: {"a":1}\n', false],
    ['data: {"a":', false],
    ['', false],
  ];
  for (const [text, expected] of cases) {
    it(`${JSON.stringify(text)} → ${expected}`, () => expect(hasFirstEvent(bytes(text))).toBe(expected));
  }
});
