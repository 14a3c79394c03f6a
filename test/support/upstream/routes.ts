/** What each OpenAI route answers when no fault applies. */
import type { IncomingMessage } from 'node:http';
import { chatReply } from './chat.js';
import { parseMultipart } from './multipart.js';
import { responsesReply } from './responses.js';
import { asObj, asStr, nowSec } from './values.js';
import { errorReply, type Reply } from './wire.js';

const BATCHES = [1, 2, 3, 4, 5].map((i) => ({
  id: `batch_${i}`,
  object: 'batch',
  endpoint: '/v1/chat/completions',
  errors: null,
  input_file_id: `file-${i}`,
  completion_window: '24h',
  status: 'completed',
  output_file_id: `file-out-${i}`,
  error_file_id: null,
  created_at: 1_700_000_000 + i,
  completed_at: 1_700_000_100 + i,
  metadata: null,
  request_counts: { total: 1, completed: 1, failed: 0 },
}));

/** One request as the routes see it; `sub` is the path below the base path (undefined outside it). */
export interface RouteRequest {
  name: string;
  /** The request's number on this upstream, from 1 (ids such as `chatcmpl-3`). */
  n: number;
  req: IncomingMessage;
  path: string;
  sub: string | undefined;
  query: Record<string, string>;
  raw: Buffer;
  json: unknown;
}

function embeddings(body: Record<string, unknown>): Reply {
  const input = body.input;
  const count = Array.isArray(input) && input.length > 0 && typeof input[0] !== 'number' ? input.length : 1;
  const vector = [0.1, 0.2, 0.3];
  const b64 = Buffer.from(new Float32Array(vector).buffer).toString('base64');
  const embedding = body.encoding_format === 'base64' ? b64 : vector;
  const data = Array.from({ length: count }, (_, index) => ({ object: 'embedding', index, embedding }));
  const model = asStr(body.model, 'unknown-model');
  return { kind: 'json', status: 200, body: { object: 'list', data, model, usage: { prompt_tokens: 3, total_tokens: 3 } } };
}

function batches(query: Record<string, string>): Reply {
  const limit = Math.max(1, Number.parseInt(query.limit ?? '2', 10) || 2);
  const startIdx = query.after ? BATCHES.findIndex((b) => b.id === query.after) + 1 : 0;
  const data = BATCHES.slice(startIdx, startIdx + limit);
  const has_more = startIdx + data.length < BATCHES.length;
  const [first_id, last_id] = [data[0]?.id ?? null, data[data.length - 1]?.id ?? null];
  return { kind: 'json', status: 200, body: { object: 'list', data, has_more, first_id, last_id } };
}

export function route({ name, n, req, path, sub, query, raw, json }: RouteRequest): Reply {
  const method = req.method ?? 'GET';
  const body = asObj(json);
  const azure = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(path);
  if (method === 'POST' && azure) return chatReply(name, n, body, decodeURIComponent(azure[1] ?? ''));
  switch (`${method} ${sub ?? '\0'}`) {
    case 'POST /chat/completions':
      return chatReply(name, n, body);
    case 'POST /responses':
      return responsesReply(name, n, body);
    case 'POST /embeddings':
      return embeddings(body);
    case 'POST /images/generations': {
      const data = [{ url: `https://example.invalid/${name}.png`, revised_prompt: body.prompt ?? null }];
      return { kind: 'json', status: 200, body: { created: nowSec(), data } };
    }
    case 'POST /audio/transcriptions': {
      const file = parseMultipart(raw, String(req.headers['content-type'] ?? '')).find((p) => p.name === 'file');
      if (!file) return errorReply(400, 'missing multipart field "file"');
      return { kind: 'json', status: 200, body: { text: `transcribed ${file.filename ?? 'file'} (${file.data.length} bytes) by ${name}` } };
    }
    case 'GET /models': {
      const data = ['model-a', 'model-b'].map((id) => ({ id, object: 'model', created: 1, owned_by: name }));
      return { kind: 'json', status: 200, body: { object: 'list', data } };
    }
    case 'GET /batches':
      return batches(query);
    case 'POST /custom':
      return { kind: 'json', status: 200, body: { ok: true, upstream: name, echo: json ?? null } };
    default:
      return errorReply(404, `Unknown route: ${method} ${path}`);
  }
}
