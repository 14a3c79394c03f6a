/**
 * Fake OpenAI-compatible upstream for tests: node:http only, bound to 127.0.0.1:0.
 * Speaks JSON, SSE and multipart like the OpenAI API and can inject faults.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number; body?: string; headers?: Record<string, string> }
  | { kind: 'bad-gateway' }
  | { kind: 'rate-limit'; retryAfter?: string; retryAfterMs?: string }
  | { kind: 'reset' }
  | { kind: 'hang' }
  | { kind: 'cut-stream'; afterChunks: number }
  /** SSE: N events, then a clean end with no terminal event ([DONE], finish_reason, response.completed). */
  | { kind: 'truncated-stream'; afterChunks: number }
  /** SSE: every event but no `data: [DONE]` (finish_reason still sent). */
  | { kind: 'no-done' }
  /** Headers at once, then the body slowly: JSON in two halves `ms` apart, SSE events `ms` apart. */
  | { kind: 'slow-body'; ms: number }
  | { kind: 'delay'; ms: number };

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json?: unknown;
  fault?: Fault['kind'];
}

export interface UpstreamOptions {
  name?: string;
  basePath?: string;
}

export interface Upstream {
  readonly name: string;
  readonly url: string;
  readonly origin: string;
  readonly requests: RecordedRequest[];
  count(path?: string): number;
  /** Faults consumed one per request, in order (FIFO), before normal behaviour resumes. */
  queue(...faults: Fault[]): void;
  /** A fault applied to every request until cleared with setFault(null). Queued faults take precedence. */
  setFault(fault: Fault | null): void;
  reset(): void;
  close(): Promise<void>;
}

type Obj = Record<string, unknown>;
type Headers = Record<string, string>;
interface SseEvent {
  event?: string;
  data: unknown;
}
type Reply =
  | { kind: 'json'; status: number; body: unknown; headers?: Headers }
  | { kind: 'text'; status: number; contentType: string; text: string; headers?: Headers }
  | { kind: 'sse'; events: SseEvent[]; done: boolean };

const asObj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const asStr = (v: unknown, dflt = ''): string => (typeof v === 'string' ? v : dflt);
const nowSec = (): number => Math.floor(Date.now() / 1000);

const NGINX_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n' +
  '<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

function errorKind(status: number): [type: string, code: string] {
  switch (status) {
    case 400:
      return ['invalid_request_error', 'bad_request'];
    case 401:
      return ['authentication_error', 'invalid_api_key'];
    case 403:
      return ['permission_error', 'permission_denied'];
    case 404:
      return ['invalid_request_error', 'not_found'];
    case 409:
      return ['invalid_request_error', 'conflict'];
    case 422:
      return ['invalid_request_error', 'unprocessable_entity'];
    case 429:
      return ['requests', 'rate_limit_exceeded'];
    default:
      return status >= 500 ? ['server_error', 'server_error'] : ['invalid_request_error', `http_${status}`];
  }
}

function errorReply(status: number, message: string, headers?: Headers): Reply {
  const [type, code] = errorKind(status);
  return { kind: 'json', status, body: { error: { message, type, param: null, code } }, headers };
}

/** Splits text into 3 pieces on word boundaries when possible ('hello ', 'from ', name). */
function split3(text: string): [string, string, string] {
  const words = text.match(/\S+\s*/g) ?? [];
  if (words.length >= 3) return [words[0] ?? '', words[1] ?? '', words.slice(2).join('')];
  const a = Math.ceil(text.length / 3);
  const b = Math.ceil((2 * text.length) / 3);
  return [text.slice(0, a), text.slice(a, b), text.slice(b)];
}

/** Minimal multipart/form-data parser (enough for the SDK's FormData bodies). */
function parseMultipart(buf: Buffer, contentType: string): { name: string; filename?: string; data: Buffer }[] {
  const m = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const boundary = m?.[1] ?? m?.[2];
  if (!boundary) return [];
  const delim = Buffer.from(`--${boundary}`);
  const parts: { name: string; filename?: string; data: Buffer }[] = [];
  let pos = buf.indexOf(delim);
  while (pos !== -1) {
    const start = pos + delim.length;
    if (buf.subarray(start, start + 2).toString() === '--') break;
    const next = buf.indexOf(delim, start);
    if (next === -1) break;
    const part = buf.subarray(start + 2, next - 2); // skip CRLF after delimiter and before next one
    const headEnd = part.indexOf('\r\n\r\n');
    if (headEnd !== -1) {
      const head = part.subarray(0, headEnd).toString('utf8');
      const name = /(?:^|[;\s])name="([^"]*)"/i.exec(head)?.[1] ?? '';
      const filename = /filename="([^"]*)"/i.exec(head)?.[1];
      parts.push({ name, ...(filename !== undefined ? { filename } : {}), data: part.subarray(headEnd + 4) });
    }
    pos = next;
  }
  return parts;
}

const usage = { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 };

function chatReply(name: string, n: number, body: Obj, deployment?: string): Reply {
  const model = asStr(body.model, deployment ?? 'unknown-model');
  const messages = asArr(body.messages).map(asObj);
  const last = messages[messages.length - 1] ?? {};
  const tools = asArr(body.tools).map(asObj);
  const base = { id: `chatcmpl-${n}`, created: nowSec(), model, system_fingerprint: `fp_${name}` };
  let content: string | null;
  let toolCall: { id: string; type: 'function'; function: { name: string; arguments: string } } | undefined;
  if (tools.length > 0 && last.role !== 'tool') {
    content = null;
    const fnName = asStr(asObj(tools[0]?.function).name, 'unknown_function');
    toolCall = { id: 'call_1', type: 'function', function: { name: fnName, arguments: '{"city":"Paris"}' } };
  } else if (last.role === 'tool') {
    const c = typeof last.content === 'string' ? last.content : JSON.stringify(last.content);
    content = `tool result was: ${c} (from ${name})`;
  } else if (asObj(body.response_format).type === 'json_schema') {
    content = JSON.stringify({ answer: `hello from ${name}` });
  } else {
    content = `hello from ${name}`;
  }
  const finish_reason = toolCall ? 'tool_calls' : 'stop';
  if (body.stream !== true) {
    const message = { role: 'assistant', content, refusal: null, ...(toolCall ? { tool_calls: [toolCall] } : {}) };
    const choices = [{ index: 0, message, finish_reason, logprobs: null }];
    return { kind: 'json', status: 200, body: { ...base, object: 'chat.completion', choices, usage } };
  }
  const chunk = (delta: Obj, finish: string | null): SseEvent => ({
    data: { ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish, logprobs: null }] },
  });
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

function responsesReply(name: string, n: number, body: Obj): Reply {
  const text = `hello from ${name}`;
  const created_at = nowSec();
  const responseObj = (status: 'in_progress' | 'completed', output: unknown[]): Obj => ({
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
    usage:
      status === 'completed' ?
        {
          input_tokens: 5,
          input_tokens_details: { cached_tokens: 0 },
          output_tokens: 4,
          output_tokens_details: { reasoning_tokens: 0 },
          total_tokens: 9,
        }
      : null,
  });
  const part = (t: string) => ({ type: 'output_text', text: t, annotations: [], logprobs: [] });
  const message = (status: 'in_progress' | 'completed', content: unknown[]) => ({
    type: 'message',
    id: 'msg_1',
    role: 'assistant',
    status,
    content,
  });
  if (body.stream !== true) {
    return { kind: 'json', status: 200, body: responseObj('completed', [message('completed', [part(text)])]) };
  }
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
    { type: 'response.completed', response: responseObj('completed', [message('completed', [part(text)])]) },
  ];
  const events = raw.map((e, i) => ({ event: asStr(e.type), data: { ...e, sequence_number: i } }));
  return { kind: 'sse', events, done: false };
}

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

function route(
  name: string,
  n: number,
  req: IncomingMessage,
  path: string,
  sub: string | undefined,
  query: Record<string, string>,
  raw: Buffer,
  json: unknown,
): Reply {
  const method = req.method ?? 'GET';
  const body = asObj(json);
  const azure = /^\/openai\/deployments\/([^/]+)\/chat\/completions$/.exec(path);
  if (method === 'POST' && azure) return chatReply(name, n, body, decodeURIComponent(azure[1] ?? ''));
  const key = `${method} ${sub ?? '\0'}`;
  switch (key) {
    case 'POST /chat/completions':
      return chatReply(name, n, body);
    case 'POST /responses':
      return responsesReply(name, n, body);
    case 'POST /embeddings': {
      const input = body.input;
      const count = Array.isArray(input) && input.length > 0 && typeof input[0] !== 'number' ? input.length : 1;
      const vector = [0.1, 0.2, 0.3];
      const b64 = Buffer.from(new Float32Array(vector).buffer).toString('base64');
      const embedding = body.encoding_format === 'base64' ? b64 : vector;
      const data = Array.from({ length: count }, (_, index) => ({ object: 'embedding', index, embedding }));
      const model = asStr(body.model, 'unknown-model');
      return { kind: 'json', status: 200, body: { object: 'list', data, model, usage: { prompt_tokens: 3, total_tokens: 3 } } };
    }
    case 'POST /images/generations':
      return {
        kind: 'json',
        status: 200,
        body: { created: nowSec(), data: [{ url: `https://example.invalid/${name}.png`, revised_prompt: body.prompt ?? null }] },
      };
    case 'POST /audio/transcriptions': {
      const parts = parseMultipart(raw, String(req.headers['content-type'] ?? ''));
      const file = parts.find((p) => p.name === 'file');
      if (!file) return errorReply(400, 'missing multipart field "file"');
      return { kind: 'json', status: 200, body: { text: `transcribed ${file.filename ?? 'file'} (${file.data.length} bytes) by ${name}` } };
    }
    case 'GET /models': {
      const data = ['model-a', 'model-b'].map((id) => ({ id, object: 'model', created: 1, owned_by: name }));
      return { kind: 'json', status: 200, body: { object: 'list', data } };
    }
    case 'GET /batches': {
      const limit = Math.max(1, Number.parseInt(query.limit ?? '2', 10) || 2);
      const startIdx = query.after ? BATCHES.findIndex((b) => b.id === query.after) + 1 : 0;
      const data = BATCHES.slice(startIdx, startIdx + limit);
      const has_more = startIdx + data.length < BATCHES.length;
      return {
        kind: 'json',
        status: 200,
        body: { object: 'list', data, has_more, first_id: data[0]?.id ?? null, last_id: data[data.length - 1]?.id ?? null },
      };
    }
    case 'POST /custom':
      return { kind: 'json', status: 200, body: { ok: true, upstream: name, echo: json ?? null } };
    default:
      return errorReply(404, `Unknown route: ${method} ${path}`);
  }
}

function faultReply(name: string, fault: Fault): Reply | undefined {
  switch (fault.kind) {
    case 'status': {
      if (fault.body === undefined) return errorReply(fault.status, `Injected ${fault.status} from ${name}`, fault.headers);
      let contentType = 'text/plain';
      try {
        JSON.parse(fault.body);
        contentType = 'application/json';
      } catch {
        /* plain text body */
      }
      return { kind: 'text', status: fault.status, contentType, text: fault.body, headers: fault.headers };
    }
    case 'bad-gateway':
      return { kind: 'text', status: 502, contentType: 'text/html', text: NGINX_502, headers: { server: 'nginx' } };
    case 'rate-limit': {
      const headers: Headers = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = fault.retryAfterMs;
      return errorReply(429, `Rate limit reached for requests on ${name}`, headers);
    }
    default:
      return undefined;
  }
}

/** How to deliver a reply: whole, cut (socket destroyed), truncated (clean end early), or slowly. */
interface Shape {
  cut?: number;
  truncate?: number;
  noDone?: boolean;
  slowMs?: number;
}
type Later = (fn: () => void, ms: number) => void;

/** Writes a reply in the given shape; `later` schedules writes that close() can cancel. */
function send(res: ServerResponse, reply: Reply, base: Headers, shape: Shape = {}, later: Later = (fn) => fn()): void {
  const destroy = () => res.socket?.destroy();
  const alive = () => !res.destroyed && !res.writableEnded;
  if (reply.kind === 'sse') {
    res.writeHead(200, { ...base, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const fmt = (e: SseEvent) => `${e.event ? `event: ${e.event}\n` : ''}data: ${JSON.stringify(e.data)}\n\n`;
    const limit = shape.cut ?? shape.truncate;
    const events = reply.events.slice(0, limit === undefined ? reply.events.length : Math.max(0, limit));
    const finish = () => {
      if (!alive()) return;
      if (shape.cut !== undefined) return void res.write(': cut\n\n', destroy); // flush, then kill the socket
      if (reply.done && shape.truncate === undefined && !shape.noDone) res.write('data: [DONE]\n\n');
      res.end();
    };
    const step = (i: number) => {
      if (!alive()) return;
      if (i >= events.length) return finish();
      res.write(fmt(events[i]!));
      if (shape.slowMs) later(() => step(i + 1), shape.slowMs);
      else step(i + 1);
    };
    return step(0);
  }
  const [contentType, text] = reply.kind === 'json' ? ['application/json', JSON.stringify(reply.body)] : [reply.contentType, reply.text];
  const buf = Buffer.from(text, 'utf8');
  res.writeHead(reply.status, { ...base, 'content-type': contentType, 'content-length': String(buf.length), ...reply.headers });
  const half = Math.floor(buf.length / 2);
  if (shape.cut !== undefined) return void res.write(buf.subarray(0, half), destroy);
  if (!shape.slowMs) return void res.end(buf);
  res.write(buf.subarray(0, half));
  later(() => alive() && res.end(buf.subarray(half)), shape.slowMs);
}

export async function startUpstream(options: UpstreamOptions = {}): Promise<Upstream> {
  const name = options.name ?? 'upstream';
  const basePath = (options.basePath ?? '/v1').replace(/\/+$/, '');
  const requests: RecordedRequest[] = [];
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let fifo: Fault[] = [];
  let sticky: Fault | null = null;
  let counter = 0;
  let closing: Promise<void> | undefined;

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    const n = ++counter;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = url.pathname;
    const query = Object.fromEntries(url.searchParams);
    const body = raw.toString('utf8');
    const rec: RecordedRequest = { method: req.method ?? 'GET', path, query, headers: { ...req.headers }, body };
    if (/\bjson\b/i.test(String(req.headers['content-type'] ?? ''))) {
      try {
        rec.json = JSON.parse(body);
      } catch {
        /* leave json undefined */
      }
    }
    const fault = fifo.shift() ?? sticky ?? undefined;
    if (fault) rec.fault = fault.kind;
    requests.push(rec);

    const base: Headers = { 'x-request-id': `req_${name}_${n}` };
    const sub =
      basePath === '' ? path
      : path.startsWith(`${basePath}/`) ? path.slice(basePath.length)
      : undefined;
    const later: Later = (fn, ms) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    };
    const normal = (shape?: Shape): void => {
      if (res.destroyed || res.writableEnded) return;
      const testStatus = Number(req.headers['x-test-status']);
      const reply =
        Number.isInteger(testStatus) && testStatus >= 100 ?
          errorReply(testStatus, `x-test-status ${testStatus} from ${name}`)
        : route(name, n, req, path, sub, query, raw, rec.json);
      send(res, reply, base, shape, later);
    };

    if (!fault) return normal();
    const canned = faultReply(name, fault);
    if (canned) return send(res, canned, base);
    switch (fault.kind) {
      case 'reset':
        req.socket.destroy();
        return;
      case 'hang':
        return; // never answer; the socket is destroyed by close() or by the client aborting
      case 'cut-stream':
        return normal({ cut: fault.afterChunks });
      case 'truncated-stream':
        return normal({ truncate: fault.afterChunks });
      case 'no-done':
        return normal({ noDone: true });
      case 'slow-body':
        return normal({ slowMs: fault.ms });
      case 'delay':
        return later(() => normal(), fault.ms);
    }
  };

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      try {
        handle(req, res, Buffer.concat(chunks));
      } catch (err) {
        if (!res.headersSent) send(res, errorReply(500, `fake upstream crashed: ${String(err)}`), {});
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://127.0.0.1:${port}`;

  return {
    name,
    origin,
    url: origin + basePath,
    requests,
    count: (p?: string) => (p === undefined ? requests.length : requests.filter((r) => r.path.endsWith(p)).length),
    queue: (...faults: Fault[]) => {
      fifo.push(...faults);
    },
    setFault: (fault: Fault | null) => {
      sticky = fault;
    },
    reset: () => {
      requests.length = 0;
      fifo = [];
      sticky = null;
      counter = 0;
    },
    close: () => {
      closing ??= new Promise<void>((resolve) => {
        for (const t of timers) clearTimeout(t);
        timers.clear();
        server.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      });
      return closing;
    },
  };
}

/** A URL (with /v1) on 127.0.0.1 where nothing listens: bind port 0, read the port, close it. */
export async function refusedURL(): Promise<string> {
  const srv = createNetServer();
  await new Promise<void>((resolve, reject) => {
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1`;
}
