// A recorded background Responses run and a loopback server's answers to it: the whole run to
// `POST /responses`, and its rest after `starting_after` to `GET /responses/resp_bg?stream=true`.
import { chatStream, type Step } from './scripted-sse.js';

export const ID = 'resp_bg';
export const TEXT = ['Hel', 'lo', ' there'];
/** A recorded background run: lifecycle, a message with three deltas, the terminal event. */
export const EVENTS = [
  { type: 'response.created', response: { id: ID, object: 'response', status: 'queued', background: true, output: [] } },
  { type: 'response.in_progress', response: { id: ID, object: 'response', status: 'in_progress', background: true, output: [] } },
  {
    type: 'response.output_item.added',
    output_index: 0,
    item: { id: 'msg_bg', type: 'message', role: 'assistant', status: 'in_progress', content: [] },
  },
  {
    type: 'response.content_part.added',
    item_id: 'msg_bg',
    output_index: 0,
    content_index: 0,
    part: { type: 'output_text', text: '', annotations: [] },
  },
  ...TEXT.map((delta) => ({ type: 'response.output_text.delta', item_id: 'msg_bg', output_index: 0, content_index: 0, delta })),
  { type: 'response.output_text.done', item_id: 'msg_bg', output_index: 0, content_index: 0, text: TEXT.join('') },
  {
    type: 'response.completed',
    response: {
      id: ID,
      object: 'response',
      status: 'completed',
      background: true,
      output: [
        {
          id: 'msg_bg',
          type: 'message',
          role: 'assistant',
          status: 'completed',
          content: [{ type: 'output_text', text: TEXT.join(''), annotations: [] }],
        },
      ],
    },
  },
].map((event, i) => ({ ...event, sequence_number: i }));
// The first event that is not lifecycle: from there on, the caller has output.
export const FIRST_OUTPUT = EVENTS.findIndex((e) => !['response.created', 'response.queued', 'response.in_progress'].includes(e.type));
export const frame = (i: number) => `event: ${EVENTS[i]!.type}\ndata: ${JSON.stringify(EVENTS[i])}\n\n`;
export const frames = (from: number, to = EVENTS.length) => Array.from({ length: to - from }, (_, k) => frame(from + k)).join('');

/** What the server answers when nothing is queued: the whole run, or its rest after `starting_after`. */
export function server(path: string): Step[] {
  const rest = /^\/responses\/resp_bg\?(.*)$/.exec(path);
  if (rest) {
    const after = Number(new URLSearchParams(rest[1]).get('starting_after') ?? -1);
    return [{ write: frames(after + 1) }];
  }
  return path.startsWith('/responses') ? [{ write: frames(0) }] : chatStream('hi');
}
