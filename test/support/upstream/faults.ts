/** The faults an upstream can inject, and how each is answered. */
import { errorReply, type Headers, type Reply, type Shape } from './wire.js';

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
  | { kind: 'delay'; ms: number }
  /** Answers normally once `until` settles: the request stays in flight exactly as long as the test wants. */
  | { kind: 'held'; until: PromiseLike<unknown> }
  | StreamFault;

/**
 * Faults of streaming requests only (`"stream": true` in the body, or `?stream=true` as a
 * background run's continuation asks): any other request is answered normally, and the fault is
 * used up.
 */
export type StreamFault =
  | StreamEdge
  /**
   * The route's own stream (chat chunks, Responses events, a background run's continuation):
   * `afterEvents` events, then cut (socket destroyed) or stalled (silence, the connection open).
   */
  | { kind: 'stream-break'; afterEvents: number; how: 'cut' | 'stall' };

/** Chat stream edges (stream-edges.ts), built in place of the route's reply. */
export type StreamEdge =
  /** A content chunk whose text holds `[DONE]`, `"finish_reason":"stop"` and `\n\ndata: `, then the socket destroyed. */
  | { kind: 'marker-text-cut' }
  /** Two choices (ask with `n: 2`), one event every 10 ms: choice 0 finishes, choice 1 is cut mid-way. */
  | { kind: 'half-finished' }
  /** One content chunk, then silence with the connection open. */
  | { kind: 'stall-after-output' }
  /** A role-only chunk (no output), then silence with the connection open. */
  | { kind: 'lifecycle-stall' }
  /** `data: {"error":{"type":"server_error",...}}` as the first frame, or after one content chunk; then a clean end. */
  | { kind: 'error-frame'; afterOutput?: boolean }
  /** A 200 with `content-type: text/html` and an HTML page, the connection left open. */
  | { kind: 'non-sse-200' };

// A record, so that a stream fault missing here fails to compile.
const STREAM_KINDS: Record<StreamFault['kind'], true> = {
  'marker-text-cut': true,
  'half-finished': true,
  'stall-after-output': true,
  'lifecycle-stall': true,
  'error-frame': true,
  'non-sse-200': true,
  'stream-break': true,
};

export const isStreamFault = (fault: Fault): fault is StreamFault => fault.kind in STREAM_KINDS;

/** What a fault does with the request: answer at once, deliver the normal reply in a shape, later, or never. */
export type FaultAction =
  | { do: 'reply'; reply: Reply }
  | { do: 'shape'; shape: Shape }
  | { do: 'after'; ms: number }
  | { do: 'when'; until: PromiseLike<unknown> }
  | { do: 'stream'; fault: StreamEdge }
  | { do: 'reset' }
  | { do: 'hang' };

const NGINX_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n' +
  '<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

function statusReply(name: string, fault: Extract<Fault, { kind: 'status' }>): Reply {
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

export function faultAction(name: string, fault: Fault): FaultAction {
  switch (fault.kind) {
    case 'status':
      return { do: 'reply', reply: statusReply(name, fault) };
    case 'bad-gateway':
      return { do: 'reply', reply: { kind: 'text', status: 502, contentType: 'text/html', text: NGINX_502, headers: { server: 'nginx' } } };
    case 'rate-limit': {
      const headers: Headers = {};
      if (fault.retryAfter !== undefined) headers['retry-after'] = fault.retryAfter;
      if (fault.retryAfterMs !== undefined) headers['retry-after-ms'] = fault.retryAfterMs;
      return { do: 'reply', reply: errorReply(429, `Rate limit reached for requests on ${name}`, headers) };
    }
    case 'reset':
      return { do: 'reset' };
    case 'hang':
      return { do: 'hang' }; // never answer; the socket is destroyed by close() or by the client aborting
    case 'cut-stream':
      return { do: 'shape', shape: { cut: fault.afterChunks } };
    case 'truncated-stream':
      return { do: 'shape', shape: { truncate: fault.afterChunks } };
    case 'no-done':
      return { do: 'shape', shape: { noDone: true } };
    case 'slow-body':
      return { do: 'shape', shape: { slowMs: fault.ms } };
    case 'delay':
      return { do: 'after', ms: fault.ms };
    case 'held':
      return { do: 'when', until: fault.until };
    case 'stream-break':
      return { do: 'shape', shape: fault.how === 'cut' ? { cut: fault.afterEvents } : { stall: fault.afterEvents } };
    default:
      return { do: 'stream', fault };
  }
}

/** A promise to hold requests with (`{ kind: 'held', until: gate.opened }`) until `gate.open()`. */
export function gate(): { opened: Promise<void>; open(): void } {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}
