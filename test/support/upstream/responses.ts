/** The Responses API: one text output (JSON for a schema), as JSON or as its ten SSE events (no `[DONE]`). */
import { asObj, asStr, nowSec, type Obj } from './values.js';
import type { Reply } from './wire.js';

type Status = 'in_progress' | 'completed';

const responseUsage = {
  input_tokens: 5,
  input_tokens_details: { cached_tokens: 0 },
  output_tokens: 4,
  output_tokens_details: { reasoning_tokens: 0 },
  total_tokens: 9,
};

export function responsesReply(name: string, n: number, body: Obj): Reply {
  // Structured output (`text.format.type` 'json_schema') answers JSON, as the chat route does for `response_format`.
  const schema = asObj(asObj(body.text).format).type === 'json_schema';
  const text = schema ? JSON.stringify({ answer: `hello from ${name}` }) : `hello from ${name}`;
  const created_at = nowSec();
  const responseObj = (status: Status, output: unknown[]): Obj => ({
    id: `resp_${n}`,
    object: 'response',
    created_at,
    status,
    completed_at: status === 'completed' ? created_at : null,
    error: null,
    incomplete_details: null,
    instructions: body.instructions ?? null,
    metadata: {},
    model: asStr(body.model, 'unknown-model'),
    output,
    parallel_tool_calls: true,
    temperature: 1,
    tool_choice: 'auto',
    tools: [],
    top_p: 1,
    text: { format: { type: 'text' } },
    truncation: 'disabled',
    usage: status === 'completed' ? responseUsage : null,
    // A background run says so (it lives on the server: see background.ts).
    ...(body.background === true && { background: true }),
  });
  const part = (t: string) => ({ type: 'output_text', text: t, annotations: [], logprobs: [] });
  const message = (status: Status, content: unknown[]) => ({ type: 'message', id: 'msg_1', role: 'assistant', status, content });
  const completed = responseObj('completed', [message('completed', [part(text)])]);
  if (body.stream !== true) return { kind: 'json', status: 200, body: completed };
  const [d1, d2] = [text.slice(0, 'hello from '.length), text.slice('hello from '.length)];
  const ids = { item_id: 'msg_1', output_index: 0, content_index: 0 };
  const raw: Obj[] = [
    { type: 'response.created', response: responseObj('in_progress', []) },
    { type: 'response.in_progress', response: responseObj('in_progress', []) },
    { type: 'response.output_item.added', output_index: 0, item: message('in_progress', []) },
    { type: 'response.content_part.added', ...ids, part: part('') },
    { type: 'response.output_text.delta', ...ids, delta: d1, logprobs: [] },
    { type: 'response.output_text.delta', ...ids, delta: d2, logprobs: [] },
    { type: 'response.output_text.done', ...ids, text, logprobs: [] },
    { type: 'response.content_part.done', ...ids, part: part(text) },
    { type: 'response.output_item.done', output_index: 0, item: message('completed', [part(text)]) },
    { type: 'response.completed', response: completed },
  ];
  const events = raw.map((e, i) => ({ event: asStr(e.type), data: { ...e, sequence_number: i } }));
  return { kind: 'sse', events, done: false };
}
