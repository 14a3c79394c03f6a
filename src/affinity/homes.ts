import { log } from '../observe/log.js';
import type { Coordination } from '../options/contracts.js';
import type { Endpoint, Router } from '../routing/router.js';
import { answerIds, streamEventIds, type RecordMode } from './answer-ids.js';
import { namedIds, type NamedRequest } from './named-ids.js';
import { servedBy } from './pages.js';
import { HomeStore, SLOTS } from './store.js';

/** The id store as shown in `getStatus().affinity`. */
export interface AffinityStatus {
  /** Whether ids are remembered (`affinity: false` turns it off). */
  enabled: boolean;
  /** Ids remembered in this process now. */
  size: number;
  /** Most ids remembered; the least recently used goes first. */
  maxIds: number;
  /** How long an id is remembered after it was last seen in an answer. */
  ttlMs: number;
}

/** Where calls that name stored ids must go: the endpoint that created them. */
export class Homes {
  constructor(
    private readonly store: HomeStore | undefined,
    private readonly router: Router,
    private readonly coordination: Coordination,
  ) {}

  /**
   * The endpoint a call must go to: the one that served the previous page, or the home of the
   * first id it names that some endpoint created. Undefined when it names none (today's rule).
   * A promise only when the ids are unknown here and a shared store may know them.
   */
  find(request: NamedRequest & { readonly options?: object }): Endpoint | undefined | Promise<Endpoint | undefined> {
    const { store, router } = this;
    if (!store) return undefined;
    const page = request.options && servedBy(request.options);
    if (page !== undefined) return router.endpoints.find((e) => e.name === page);
    const remote = this.coordination.findHome !== undefined;
    if (store.size === 0 && !remote) return undefined;
    const ids = namedIds(request);
    if (ids.length === 0) return undefined;
    for (const id of ids) {
      const index = store.get(id);
      if (index !== undefined) return router.endpoints[index];
    }
    if (!remote) return undefined;
    return this.#findShared(ids);
  }

  async #findShared(ids: string[]): Promise<Endpoint | undefined> {
    try {
      const found = await this.coordination.findHome!(ids);
      if (!found) return undefined;
      const endpoint = this.router.endpoints.find((e) => e.name === found.endpoint);
      if (endpoint) this.store!.set(found.id, endpoint.index);
      return endpoint;
    } catch (error) {
      // A shared store in trouble degrades to what this process knows; it never fails a call.
      log('affinity: shared lookup failed (%s); deciding locally', error instanceof Error ? error.name : 'error');
      return undefined;
    }
  }

  /** Remembers the ids of a parsed JSON answer as created by `endpoint`. */
  rememberAnswer(json: unknown, mode: RecordMode, endpoint: Endpoint): void {
    if (mode !== undefined) this.#remember(answerIds(json, mode), endpoint);
  }

  /** Remembers the ids a Responses stream event shows (`response.created`, `response.completed`). */
  rememberStreamEvent(event: unknown, mode: RecordMode, endpoint: Endpoint): void {
    if (mode !== undefined) this.#remember(streamEventIds(event, mode), endpoint);
  }

  #remember(ids: string[], endpoint: Endpoint): void {
    const { store } = this;
    if (!store || ids.length === 0 || endpoint.index >= SLOTS) return;
    for (const id of ids) store.set(id, endpoint.index);
    try {
      this.coordination.rememberHomes?.(ids, endpoint.name, store.ttlMs);
    } catch (error) {
      log('affinity: sharing ids failed (%s)', error instanceof Error ? error.name : 'error');
    }
  }

  status(): AffinityStatus {
    const { store } = this;
    return { enabled: store !== undefined, size: store?.size ?? 0, maxIds: store?.maxIds ?? 0, ttlMs: store?.ttlMs ?? 0 };
  }
}
