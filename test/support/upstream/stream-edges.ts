/** The chat stream edges a streaming request can meet (faults.ts, StreamEdge), as a reply and its shape. */
import { chatChunks } from './chat.js';
import type { StreamEdge } from './faults.js';
import type { Obj } from './values.js';
import type { Reply, SseEvent, Shape } from './wire.js';

/** Output that mentions every marker a careless reader ends a stream at; JSON escapes its quotes and line ends. */
export const MARKER_TEXT = 'A stream ends at [DONE] or "finish_reason":"stop", after a blank line:\n\ndata: [DONE]\n\n';

const HTML_PAGE = '<!DOCTYPE html>\n<html><head><title>Sign in</title></head><body><h1>Please sign in</h1></body></html>\n';

const sse = (events: SseEvent[], shape: Shape): { reply: Reply; shape: Shape } => ({ reply: { kind: 'sse', events, done: true }, shape });

export function streamEdge(fault: StreamEdge, name: string, n: number, body: Obj): { reply: Reply; shape: Shape } {
  const chunk = chatChunks(name, n, body);
  const first = (index = 0) => chunk({ role: 'assistant', content: 'hello ' }, null, index);
  switch (fault.kind) {
    case 'marker-text-cut':
      return sse([first(), chunk({ content: MARKER_TEXT }, null)], { cut: 2 });
    case 'half-finished': {
      // 10 ms apart, one chunk each as in a real stream: choice 0's finish arrives alone.
      const events = [first(0), first(1), chunk({ content: `from ${name}` }, 'stop', 0), chunk({ content: 'from ' }, null, 1)];
      return sse(events, { cut: events.length, slowMs: 10 });
    }
    case 'stall-after-output':
      return sse([first()], { stall: 1 });
    case 'lifecycle-stall':
      return sse([chunk({ role: 'assistant', content: '' }, null)], { stall: 1 });
    case 'error-frame': {
      const error = { message: `Injected stream error from ${name}`, type: 'server_error', param: null, code: null };
      const events = [...(fault.afterOutput ? [first()] : []), { data: { error } }];
      return sse(events, { truncate: events.length }); // a clean end after the error frame, no [DONE]
    }
    case 'non-sse-200':
      return { reply: { kind: 'text', status: 200, contentType: 'text/html', text: HTML_PAGE }, shape: { stall: 0 } };
  }
}
