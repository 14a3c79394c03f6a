import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A loopback upstream that answers each request with the next script: exact bytes, pauses, a cut
 * connection or silence. For the stream edges the fault upstream does not model (frames split
 * anywhere, error frames, stalls after output).
 */
export type Step =
  | { head: { status?: number; contentType?: string } }
  | { write: string }
  | { pause: number }
  /** Destroys the socket: the client sees a connection error mid-body. */
  | { cut: true }
  /** Stays silent with the connection open, until the server closes. */
  | { hang: true };

export interface ScriptedUpstream {
  url: string;
  /** Requests received, with their parsed JSON bodies. */
  readonly requests: { path: string; body: unknown }[];
  /** Scripts for the next requests, in order; when none is left, `fallback` answers. */
  queue(...scripts: Step[][]): void;
  /** TCP connections accepted so far (a reused keep-alive connection counts once). */
  readonly connections: number;
  /** Resolves when no connection is open any more. */
  allClosed(): Promise<void>;
  close(): Promise<void>;
}

const frame = (data: unknown, event?: string) => `${event ? `event: ${event}\n` : ''}data: ${JSON.stringify(data)}\n\n`;

/** A chat chunk with one choice. */
export const chatChunk = (delta: Record<string, unknown>, finish: string | null = null, index = 0) =>
  frame({
    id: 'chatcmpl-s',
    object: 'chat.completion.chunk',
    created: 1,
    model: 'gpt-test',
    choices: [{ index, delta, finish_reason: finish }],
  });

/** A whole chat stream saying `text`. */
export const chatStream = (text: string): Step[] => [
  { write: chatChunk({ role: 'assistant', content: '' }) + chatChunk({ content: text }) + chatChunk({}, 'stop') + 'data: [DONE]\n\n' },
];

/** A Responses event frame (with its `event:` line, as OpenAI sends it). */
export const responsesEvent = (type: string, fields: Record<string, unknown> = {}) => frame({ type, ...fields }, type);

/** A whole Responses stream saying `text`. */
export const responsesStream = (text: string): Step[] => [
  {
    write:
      responsesEvent('response.created', { response: { id: 'resp_s', object: 'response', status: 'in_progress', output: [] } }) +
      responsesEvent('response.output_text.delta', { item_id: 'msg_s', output_index: 0, content_index: 0, delta: text }) +
      responsesEvent('response.completed', {
        response: {
          id: 'resp_s',
          object: 'response',
          status: 'completed',
          output: [
            {
              type: 'message',
              id: 'msg_s',
              role: 'assistant',
              status: 'completed',
              content: [{ type: 'output_text', text, annotations: [] }],
            },
          ],
        },
      }),
  },
];

export async function scriptedUpstream(fallback: (path: string) => Step[]): Promise<ScriptedUpstream> {
  const scripts: Step[][] = [];
  const requests: { path: string; body: unknown }[] = [];
  const sockets = new Set<Socket>();
  let connections = 0;
  let onClosed: (() => void) | undefined;
  const run = async (req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    for await (const chunk of req) raw += String(chunk);
    const path = (req.url ?? '/').replace(/^\/v1/, '');
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = raw;
    }
    requests.push({ path, body });
    const script = scripts.shift() ?? fallback(path);
    let headed = false;
    const head = (status = 200, contentType = 'text/event-stream') => {
      if (headed) return;
      headed = true;
      res.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-cache' });
      res.flushHeaders();
    };
    for (const step of script) {
      if ('head' in step) head(step.head.status, step.head.contentType);
      else if ('write' in step) {
        head();
        res.write(step.write);
      } else if ('pause' in step) {
        head();
        await new Promise((r) => setTimeout(r, step.pause));
      } else if ('cut' in step) {
        head();
        // Let the written bytes leave before the reset.
        await new Promise((r) => setTimeout(r, 20));
        req.socket.destroy();
        return;
      } else {
        head();
        return; // hang: never end
      }
    }
    head();
    res.end();
  };
  const server = createServer((req, res) => void run(req, res).catch(() => req.socket.destroy()));
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      if (sockets.size === 0) onClosed?.();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    requests,
    queue: (...next) => void scripts.push(...next),
    get connections() {
      return connections;
    },
    allClosed: () => (sockets.size === 0 ? Promise.resolve() : new Promise<void>((resolve) => (onClosed = resolve))),
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
