/** The fake upstream's lifecycle: listen on 127.0.0.1:0, take each request, apply faults, close. */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { BackgroundRuns } from './background.js';
import { faultAction, isStreamFault, type Fault } from './faults.js';
import { recordRequest, RequestLog, type RecordedRequest } from './recording.js';
import { route } from './routes.js';
import { StoredObjects } from './stored.js';
import { streamEdge } from './stream-edges.js';
import { asObj } from './values.js';
import { errorReply, send, type Headers, type Later, type Shape } from './wire.js';

export interface UpstreamOptions {
  name?: string;
  basePath?: string;
  /** Keep stored state (responses, files, ...) as the real API does: see stored.ts. */
  stored?: boolean;
}

export interface Upstream {
  readonly name: string;
  readonly url: string;
  readonly origin: string;
  readonly requests: RecordedRequest[];
  /** The stored objects, with `stored: true`. */
  readonly stored: StoredObjects | undefined;
  count(path?: string): number;
  /** Resolves once `n` requests (to paths ending with `path`) have arrived: wait for what must happen, never sleep. */
  received(n: number, path?: string): Promise<void>;
  /** Faults consumed one per request, in order (FIFO), before normal behaviour resumes (stream faults: see StreamFault). */
  queue(...faults: Fault[]): void;
  /** A fault applied to every request until cleared with setFault(null). Queued faults take precedence. */
  setFault(fault: Fault | null): void;
  reset(): void;
  close(): Promise<void>;
}

export async function startUpstream(options: UpstreamOptions = {}): Promise<Upstream> {
  const name = options.name ?? 'upstream';
  const basePath = (options.basePath ?? '/v1').replace(/\/+$/, '');
  const log = new RequestLog();
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  let fifo: Fault[] = [];
  let sticky: Fault | null = null;
  let counter = 0;
  let closing: Promise<void> | undefined;
  const stored = options.stored ? new StoredObjects(name) : undefined;
  const runs = new BackgroundRuns();

  const later: Later = (fn, ms) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
  };

  // A background run's continuation first; a background run's stream is kept for its continuations.
  const routeAll = (r: Parameters<typeof route>[0]) => runs.route(r) ?? runs.keep(r, stored?.route(r) ?? route(r));

  const handle = (req: IncomingMessage, res: ServerResponse, raw: Buffer): void => {
    const n = ++counter;
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const rec = recordRequest(req, url, raw);
    const next = fifo.shift() ?? sticky ?? undefined;
    // A stream fault meets a request that does not stream: it is used up, and the request is answered normally.
    const streams = asObj(rec.json).stream === true || rec.query.stream === 'true';
    const fault = next && isStreamFault(next) && !streams ? undefined : next;
    if (fault) rec.fault = fault.kind;
    log.add(rec);

    const base: Headers = { 'x-request-id': `req_${name}_${n}` };
    const path = url.pathname;
    const sub =
      basePath === '' ? path
      : path.startsWith(`${basePath}/`) ? path.slice(basePath.length)
      : undefined;
    const normal = (shape?: Shape): void => {
      if (res.destroyed || res.writableEnded) return;
      // A per-request hang (for one client of many sharing this upstream): never answered.
      if (req.headers['x-test-hang']) return;
      const testStatus = Number(req.headers['x-test-status']);
      const reply =
        Number.isInteger(testStatus) && testStatus >= 100 ?
          errorReply(
            testStatus,
            `x-test-status ${testStatus} from ${name}`,
            req.headers['x-test-retry-after'] ? { 'retry-after': String(req.headers['x-test-retry-after']) } : undefined,
          )
        : routeAll({ name, n, req, path, sub, query: rec.query, raw, json: rec.json });
      send(res, reply, base, shape, later);
    };

    if (!fault) return normal();
    const action = faultAction(name, fault);
    switch (action.do) {
      case 'reply':
        return send(res, action.reply, base);
      case 'shape':
        return normal(action.shape);
      case 'after':
        return later(() => normal(), action.ms);
      case 'when':
        return void action.until.then(() => normal());
      case 'reset':
        return void req.socket.destroy();
      case 'hang':
        return;
      case 'stream': {
        const { reply, shape } = streamEdge(action.fault, name, n, asObj(rec.json));
        return send(res, reply, base, shape, later);
      }
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
  const origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    name,
    origin,
    url: origin + basePath,
    requests: log.requests,
    stored,
    count: (path) => log.count(path),
    received: (n, path) => log.received(n, path),
    queue: (...faults) => void fifo.push(...faults),
    setFault: (fault) => {
      sticky = fault;
    },
    reset: () => {
      log.clear();
      fifo = [];
      sticky = null;
      counter = 0;
      runs.clear();
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
