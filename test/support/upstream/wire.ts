/**
 * The wire format: what a reply is (JSON, text, SSE events), OpenAI's error bodies, and writing a
 * reply whole, cut (socket destroyed), truncated (clean end early), stalled (silence) or slowly.
 */
import type { ServerResponse } from 'node:http';

export type Headers = Record<string, string>;

export interface SseEvent {
  event?: string;
  data: unknown;
}

export type Reply =
  | { kind: 'json'; status: number; body: unknown; headers?: Headers }
  | { kind: 'text'; status: number; contentType: string; text: string; headers?: Headers }
  /** `done`: end with `data: [DONE]` (chat completions do, the Responses API does not). */
  | { kind: 'sse'; events: SseEvent[]; done: boolean };

/** OpenAI's `error.type` and `error.code` per status. */
const ERROR_KINDS: Record<number, [type: string, code: string]> = {
  400: ['invalid_request_error', 'bad_request'],
  401: ['authentication_error', 'invalid_api_key'],
  403: ['permission_error', 'permission_denied'],
  404: ['invalid_request_error', 'not_found'],
  409: ['invalid_request_error', 'conflict'],
  422: ['invalid_request_error', 'unprocessable_entity'],
  429: ['requests', 'rate_limit_exceeded'],
};

/** An OpenAI-style JSON error body. */
export function errorReply(status: number, message: string, headers?: Headers): Reply {
  const [type, code] =
    ERROR_KINDS[status] ?? (status >= 500 ? ['server_error', 'server_error'] : ['invalid_request_error', `http_${status}`]);
  return { kind: 'json', status, body: { error: { message, type, param: null, code } }, headers };
}

/** How to deliver a reply: whole, cut after N events (socket destroyed), truncated (clean end early), stalled, or slowly. */
export interface Shape {
  cut?: number;
  truncate?: number;
  noDone?: boolean;
  slowMs?: number;
  /** N events, then silence with the connection open; other replies: the whole body, no content-length, then silence. */
  stall?: number;
}

/** Schedules a write later; the server cancels what is still pending when it closes. */
export type Later = (fn: () => void, ms: number) => void;

const sseLine = (e: SseEvent) => `${e.event ? `event: ${e.event}\n` : ''}data: ${JSON.stringify(e.data)}\n\n`;

/** Writes a reply in the given shape. */
export function send(res: ServerResponse, reply: Reply, base: Headers, shape: Shape = {}, later: Later = (fn) => fn()): void {
  const destroy = () => res.socket?.destroy();
  const alive = () => !res.destroyed && !res.writableEnded;
  if (reply.kind === 'sse') {
    res.writeHead(200, { ...base, 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
    const limit = shape.cut ?? shape.truncate ?? shape.stall;
    const events = reply.events.slice(0, limit === undefined ? reply.events.length : Math.max(0, limit));
    const finish = () => {
      if (!alive() || shape.stall !== undefined) return; // stalled: the server's close() ends it
      if (shape.cut !== undefined) return void res.write(': cut\n\n', destroy); // flush, then kill the socket
      if (reply.done && shape.truncate === undefined && !shape.noDone) res.write('data: [DONE]\n\n');
      res.end();
    };
    const step = (i: number) => {
      if (!alive()) return;
      if (i >= events.length) return finish();
      res.write(sseLine(events[i]!));
      if (shape.slowMs) later(() => step(i + 1), shape.slowMs);
      else step(i + 1);
    };
    return step(0);
  }
  const [contentType, text] = reply.kind === 'json' ? ['application/json', JSON.stringify(reply.body)] : [reply.contentType, reply.text];
  const buf = Buffer.from(text, 'utf8');
  // Stalled: no content-length, and the body never ends (the server's close() ends the connection).
  if (shape.stall !== undefined)
    return void res.writeHead(reply.status, { ...base, 'content-type': contentType, ...reply.headers }).write(buf);
  res.writeHead(reply.status, { ...base, 'content-type': contentType, 'content-length': String(buf.length), ...reply.headers });
  const half = Math.floor(buf.length / 2);
  if (shape.cut !== undefined) return void res.write(buf.subarray(0, half), destroy);
  if (!shape.slowMs) return void res.end(buf);
  res.write(buf.subarray(0, half));
  later(() => alive() && res.end(buf.subarray(half)), shape.slowMs);
}
