/**
 * The live feed behind the status page, split out of express-status-routes.ts so the reference
 * routes stay short. `mountLiveFeed` adds two routes:
 *
 *   GET  /api/events              server-sent events: `status`, `switched`, `recovered`, `healthcheck`, `breaker`
 *   GET  /api/timeline            recent switches, recoveries, breaker changes and health checks
 *
 * Everything it sends passes through `safeStatus` or `reasonOf`: upstream error text can echo a
 * credential, so none of it reaches a browser.
 */
import type { Express, Response } from 'express';
import { APIError } from 'openai';
import type { ResilientOpenAI, ResilientStatus } from '../src/index.js';

/** One entry of `/api/timeline` and one `/api/events` event other than `status`. */
export type FeedEvent = { id: number; at: string } & (
  | { type: 'switched'; from: string; to: string; reason: string; error?: string }
  | { type: 'recovered'; endpoint: string; downtimeMs: number }
  | { type: 'breaker'; endpoint: string; state: string; previous: string }
  | { type: 'healthcheck'; endpoint: string; ok: boolean; latencyMs: number; error?: string }
);

/** The server side of `/api/events`, kept in `app.locals.liveFeed`. */
export interface LiveFeed {
  /** Open `/api/events` connections. */
  connections(): number;
  /** Ends every `/api/events` stream, e.g. before `server.close()`. */
  close(): void;
}

export const liveFeedOf = (app: Express): LiveFeed => app.locals.liveFeed as LiveFeed;

// Event errors are raw SDK errors; show only the status or type, never the message.
export const reasonOf = (error: unknown) =>
  error instanceof APIError && error.status !== undefined ? String(error.status)
  : error instanceof Error ? error.constructor.name
  : 'unknown';

// Status errors read "502 InternalServerError: <upstream text>"; keep the part before the message.
const shortError = (text: string | null) => (text === null ? null : (/^(?:\d{3} )?[A-Za-z_$][\w$]*(?=:)/.exec(text)?.[0] ?? 'error'));

/** `getStatus()` without any upstream text, ready for a browser. */
export const safeStatus = (client: ResilientOpenAI): ResilientStatus => {
  const status = client.getStatus();
  return {
    ...status,
    lastCheckError: shortError(status.lastCheckError),
    endpoints: status.endpoints.map((e) => ({ ...e, lastError: shortError(e.lastError) })),
  };
};

/** The last `size` items pushed, oldest first. */
function ringBuffer<T>(size: number) {
  const items: T[] = [];
  return {
    push(item: T): void {
      items.push(item);
      if (items.length > size) items.shift();
    },
    list: (): T[] => [...items],
  };
}

/**
 * Mounts `/api/events` and `/api/timeline` on `app`, keeps the last `historySize` events per list
 * (timeline, health checks), and stores the feed in `app.locals.liveFeed` for `liveFeedOf(app)`.
 */
export function mountLiveFeed(app: Express, client: ResilientOpenAI, { historySize }: { historySize: number }): LiveFeed {
  // One set of listeners on the client for the whole app, however many browsers watch.
  const streams = new Set<Response>();
  const timeline = ringBuffer<FeedEvent>(historySize);
  const checks = ringBuffer<FeedEvent>(historySize);
  let nextId = 1;
  let statusPending = false;
  const write = (chunk: string) => {
    for (const res of streams) if (!res.writableEnded && !res.destroyed) res.write(chunk);
  };
  const sse = (event: string, data: unknown, id?: number) =>
    `${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  // After the burst of events one change causes (healthcheck, breaker, recovered, switched), the state is final.
  const scheduleStatus = () => {
    if (statusPending) return;
    statusPending = true;
    setImmediate(() => {
      statusPending = false;
      if (streams.size) write(sse('status', safeStatus(client)));
    });
  };
  const publish = (event: FeedEvent) => {
    (event.type === 'healthcheck' ? checks : timeline).push(event);
    write(sse(event.type, event, event.id));
    scheduleStatus();
  };
  const stamp = () => ({ id: nextId++, at: new Date().toISOString() });

  client.on('switched', ({ from, to, reason, error }) =>
    publish({ ...stamp(), type: 'switched', from, to, reason, ...(error === undefined ? {} : { error: reasonOf(error) }) }),
  );
  client.on('recovered', ({ endpoint, downtimeMs }) => publish({ ...stamp(), type: 'recovered', endpoint, downtimeMs }));
  client.on('healthcheck', ({ endpoint, ok, latencyMs, error }) =>
    publish({ ...stamp(), type: 'healthcheck', endpoint, ok, latencyMs, ...(ok ? {} : { error: reasonOf(error) }) }),
  );
  client.on('breaker', ({ endpoint, state, previous }) => publish({ ...stamp(), type: 'breaker', endpoint, state, previous }));
  client.on('retry', scheduleStatus);

  const feed: LiveFeed = {
    connections: () => streams.size,
    close: () => {
      for (const res of streams) res.end();
      streams.clear();
    },
  };
  app.locals.liveFeed = feed;

  app.get('/api/timeline', (_req, res) => {
    res.json({ timeline: timeline.list(), healthchecks: checks.list() });
  });

  app.get('/api/events', (_req, res) => {
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no', // nginx: do not buffer the stream
    });
    res.write(`retry: 3000\n${sse('status', safeStatus(client))}`);
    streams.add(res);
    // A comment line now and then keeps proxies from closing an idle stream.
    const heartbeat = setInterval(() => res.write(': ping\n\n'), 25_000).unref();
    const cleanup = () => {
      clearInterval(heartbeat);
      streams.delete(res);
    };
    res.once('close', cleanup); // the browser went away, or liveFeed.close() ended the stream
  });

  return feed;
}
