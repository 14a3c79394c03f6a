/**
 * Background Responses runs (`background: true`, streamed): a run lives on the server, so its
 * events are kept, and `GET /responses/{id}?stream=true&starting_after=N` streams those after
 * sequence number N (all of them without `starting_after`), whatever became of the first
 * connection. An id this upstream never ran is a 404, as the real API answers.
 */
import type { RouteRequest } from './routes.js';
import { asObj } from './values.js';
import { errorReply, type Reply, type SseEvent } from './wire.js';

export class BackgroundRuns {
  readonly #runs = new Map<string, SseEvent[]>();

  /** The route's reply to `r`, kept (by the response id of its first event) when it streams a background run. */
  keep(r: RouteRequest, reply: Reply): Reply {
    const body = asObj(r.json);
    if (r.req.method !== 'POST' || r.sub !== '/responses' || body.background !== true || reply.kind !== 'sse') return reply;
    const id = asObj(asObj(reply.events[0]?.data).response).id;
    if (typeof id === 'string') this.#runs.set(id, reply.events);
    return reply;
  }

  /** A run's stream continued, or undefined for any other request. */
  route(r: RouteRequest): Reply | undefined {
    const id = /^\/responses\/([^/]+)$/.exec(r.sub ?? '')?.[1];
    if (r.req.method !== 'GET' || id === undefined || r.query.stream !== 'true') return undefined;
    const events = this.#runs.get(decodeURIComponent(id));
    if (!events) return errorReply(404, `Response with id '${decodeURIComponent(id)}' not found.`);
    const after = Number(r.query.starting_after ?? -1);
    return { kind: 'sse', events: events.filter((e) => Number(asObj(e.data).sequence_number) > after), done: false };
  }

  clear(): void {
    this.#runs.clear();
  }
}
