/** Every request an upstream received, in order, and waiting until some have arrived. */
import type { IncomingMessage } from 'node:http';
import type { Fault } from './faults.js';

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json?: unknown;
  fault?: Fault['kind'];
}

export function recordRequest(req: IncomingMessage, url: URL, raw: Buffer): RecordedRequest {
  const body = raw.toString('utf8');
  const rec: RecordedRequest = {
    method: req.method ?? 'GET',
    path: url.pathname,
    query: Object.fromEntries(url.searchParams),
    headers: { ...req.headers },
    body,
  };
  if (/\bjson\b/i.test(String(req.headers['content-type'] ?? ''))) {
    try {
      rec.json = JSON.parse(body);
    } catch {
      /* leave json undefined */
    }
  }
  return rec;
}

export class RequestLog {
  readonly requests: RecordedRequest[] = [];
  #waiting: { n: number; path: string | undefined; resolve: () => void }[] = [];

  /** Requests so far, or those whose path ends with `path`. */
  count(path?: string): number {
    return path === undefined ? this.requests.length : this.requests.filter((r) => r.path.endsWith(path)).length;
  }

  add(rec: RecordedRequest): void {
    this.requests.push(rec);
    this.#waiting = this.#waiting.filter((w) => (this.count(w.path) >= w.n ? (w.resolve(), false) : true));
  }

  /** Resolves once `n` requests (whose path ends with `path`) have arrived. */
  received(n: number, path?: string): Promise<void> {
    if (this.count(path) >= n) return Promise.resolve();
    return new Promise((resolve) => this.#waiting.push({ n, path, resolve }));
  }

  clear(): void {
    this.requests.length = 0;
  }
}
