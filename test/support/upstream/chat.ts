/** Chat completions, as JSON or as SSE chunks: a text answer, a tool call, a tool result, or JSON for a schema. */
import { asArr, asObj, asStr, nowSec, usage, type Obj } from './values.js';
import type { Reply, SseEvent } from './wire.js';

/** Splits text into 3 pieces on word boundaries when possible ('hello ', 'from ', name). */
function split3(text: string): [string, string, string] {
  const words = text.match(/\S+\s*/g) ?? [];
  if (words.length >= 3) return [words[0] ?? '', words[1] ?? '', words.slice(2).join('')];
  const a = Math.ceil(text.length / 3);
  const b = Math.ceil((2 * text.length) / 3);
  return [text.slice(0, a), text.slice(a, b), text.slice(b)];
}

type ToolCall = { id: string; type: 'function'; function: { name: string; arguments: string } };

/** What the assistant says: a call of the first tool, the tool's result echoed, or a greeting. */
function answer(name: string, body: Obj): { content: string | null; toolCall?: ToolCall } {
  const messages = asArr(body.messages).map(asObj);
  const last = messages[messages.length - 1] ?? {};
  const tools = asArr(body.tools).map(asObj);
  if (tools.length > 0 && last.role !== 'tool') {
    const fnName = asStr(asObj(tools[0]?.function).name, 'unknown_function');
    return { content: null, toolCall: { id: 'call_1', type: 'function', function: { name: fnName, arguments: '{"city":"Paris"}' } } };
  }
  if (last.role === 'tool') {
    const c = typeof last.content === 'string' ? last.content : JSON.stringify(last.content);
    return { content: `tool result was: ${c} (from ${name})` };
  }
  if (asObj(body.response_format).type === 'json_schema') return { content: JSON.stringify({ answer: `hello from ${name}` }) };
  return { content: `hello from ${name}` };
}

/** The fields every chat completion (or chunk) of request `n` shares. */
const chatBase = (name: string, n: number, body: Obj, deployment?: string) => ({
  id: `chatcmpl-${n}`,
  created: nowSec(),
  model: asStr(body.model, deployment ?? 'unknown-model'),
  system_fingerprint: `fp_${name}`,
});

const chunksOf =
  (base: Obj) =>
  (delta: Obj, finish: string | null, index = 0): SseEvent => ({
    data: { ...base, object: 'chat.completion.chunk', choices: [{ index, delta, finish_reason: finish, logprobs: null }] },
  });

/** Makes the SSE chunks of request `n`: one choice each, `index` 0 unless given. */
export const chatChunks = (name: string, n: number, body: Obj) => chunksOf(chatBase(name, n, body));

export function chatReply(name: string, n: number, body: Obj, deployment?: string): Reply {
  const base = chatBase(name, n, body, deployment);
  const { content, toolCall } = answer(name, body);
  const finish_reason = toolCall ? 'tool_calls' : 'stop';
  if (body.stream !== true) {
    const message = { role: 'assistant', content, refusal: null, ...(toolCall ? { tool_calls: [toolCall] } : {}) };
    const choices = [{ index: 0, message, finish_reason, logprobs: null }];
    return { kind: 'json', status: 200, body: { ...base, object: 'chat.completion', choices, usage } };
  }
  const chunk = chunksOf(base);
  let events: SseEvent[];
  if (toolCall) {
    const { id, type, function: fn } = toolCall;
    events = [
      chunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id, type, function: { name: fn.name, arguments: '' } }] }, null),
      chunk({ tool_calls: [{ index: 0, function: { arguments: fn.arguments } }] }, null),
      chunk({}, finish_reason),
    ];
  } else {
    const [a, b, c] = split3(content ?? '');
    events = [chunk({ role: 'assistant', content: a }, null), chunk({ content: b }, null), chunk({ content: c }, finish_reason)];
  }
  if (asObj(body.stream_options).include_usage === true) {
    events.push({ data: { ...base, object: 'chat.completion.chunk', choices: [], usage } });
  }
  return { kind: 'sse', events, done: true };
}
