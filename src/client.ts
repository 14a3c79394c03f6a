// The named export: in CommonJS, openai's module.exports is a factory function, not the class.
import { APIPromise, OpenAI, PagePromise, type ClientOptions } from 'openai';
import type { AbstractPage } from 'openai/pagination';
import { execute } from './call/execute.js';
import { readFailoverOverride } from './call/failover-override.js';
import { mergeHeaders } from './call/headers.js';
import type { RequestDefaults } from './call/types.js';
import { createResilientFetch, type ResilientFetch } from './fetch/resilient-fetch.js';
import type { EventName, ResilientEvents } from './observe/events.js';
import type { ResilientOptions } from './options/types.js';
import { parsingGuarded } from './streams/sdk-parse.js';
import { createShared, startShared, type Shared } from './setup/shared.js';
import { snapshot, type ResilientStatus } from './status.js';

interface Derivation {
  shared: Shared;
  defaults: RequestDefaults;
}

// Passed through the constructor by withOptions(); a symbol so no user option can collide.
const kDerive = Symbol('resilient-openai.derive');

/** Keys of `withOptions()` that can apply to every endpoint, request by request. */
const PER_REQUEST_KEYS = new Set(['timeout', 'maxRetries', 'defaultHeaders', 'defaultQuery', 'fetchOptions']);

type RequestInput = Parameters<OpenAI['request']>[0];

/** A derived client reuses its parent's shared state; a new one builds its own. */
function prepare(options: ResilientOptions | undefined): { clientOptions: ClientOptions; derivation: Derivation } {
  const derived = (options as { [kDerive]?: Derivation } | undefined)?.[kDerive];
  if (derived) {
    const clientOptions = { ...options } as ClientOptions & { [kDerive]?: Derivation };
    delete clientOptions[kDerive];
    return { clientOptions, derivation: derived };
  }
  const { clientOptions, shared } = createShared(options);
  return { clientOptions, derivation: { shared, defaults: {} } };
}

/**
 * A drop-in `OpenAI` client with retries, failover to fallback endpoints and a health timer that
 * switches back to the primary when it recovers. Every SDK method works through it unchanged.
 *
 * Its `fetch` property (`client['fetch']` in TypeScript, where openai types it private) is a
 * `fetch()` that sends each OpenAI API request through this client, for libraries that take a
 * fetch function instead of a client: the Vercel AI SDK's `createOpenAI({ fetch })`, LangChain's
 * `configuration: { fetch }`.
 */
export class ResilientOpenAI extends OpenAI {
  readonly #shared: Shared;
  readonly #defaults: RequestDefaults;

  /**
   * @param options OpenAI's `ClientOptions` for the primary, plus `fallback`, `retry`,
   * `failover` and `healthCheck`. With no options: primary from `OPENAI_BASE_URL_PRO` and
   * `OPENAI_API_KEY_PRO`, fallback `https://api.openai.com/v1` with `OPENAI_API_KEY`.
   * @throws TypeError naming the option and value when an option is invalid.
   */
  constructor(options?: ResilientOptions) {
    const { clientOptions, derivation } = prepare(options);
    super(clientOptions);
    this.#shared = derivation.shared;
    this.#defaults = derivation.defaults;
    const { shared, defaults } = derivation;
    const send = createResilientFetch((request) => {
      if (!shared.started) startShared(shared);
      return execute(shared.core, this.maxRetries, request, defaults, false, true);
    }, shared.core.secrets);
    // The SDK's own transport property (typed private, public at runtime, copied by helpers that
    // clone a client): on this client it is the resilient fetch. Nothing of ours sends through
    // it, since request() goes to the endpoints' clients, so it cannot loop.
    (this as unknown as { fetch: ResilientFetch }).fetch = send;
  }

  // Every generated method, helper and next-page request funnels into these two methods.
  /** The SDK's request entry point, with retries and failover across endpoints. */
  override request<Rsp>(options: RequestInput, _remainingRetries: number | null = null): APIPromise<Rsp> {
    if (!this.#shared.started) startShared(this.#shared);
    return parsingGuarded(new APIPromise<Rsp>(this, execute(this.#shared.core, this.maxRetries, options, this.#defaults)));
  }

  // Typed loosely on purpose: TypeScript cannot match the base's generic page signature in an
  // override (its `Item` only appears in a constraint), so callers keep the inherited types
  // through `getAPIList()` and the resources, which is how the SDK itself calls this.
  /** The SDK's paginated request entry point, with retries and failover across endpoints. */
  override requestAPIList(Page: new (...args: any[]) => AbstractPage<unknown>, options: RequestInput): any {
    if (!this.#shared.started) startShared(this.#shared);
    return new PagePromise(this, execute(this.#shared.core, this.maxRetries, options, this.#defaults, true), Page);
  }

  /**
   * A client with other per-request defaults (`timeout`, `maxRetries`, `defaultHeaders`,
   * `defaultQuery`, `fetchOptions`) that shares this client's endpoints, failover state, health
   * timer and listeners. Endpoint settings (URL, key, ...) need a new `ResilientOpenAI`.
   * `defaultHeaders` takes every form the SDK takes (a record, a `Headers`, entry arrays; `null`
   * removes a header) and is merged over this client's, header by header.
   * @throws TypeError for another option, or an `x-resilient-failover` header other than `allow`/`deny`.
   */
  override withOptions(options: Partial<ClientOptions>): this {
    for (const key of Object.keys(options ?? {})) {
      if (!PER_REQUEST_KEYS.has(key)) {
        throw new TypeError(
          `resilient-openai: withOptions() cannot change \`${key}\`; it accepts ${[...PER_REQUEST_KEYS].join(', ')}. Create a new ResilientOpenAI for other endpoint settings`,
        );
      }
    }
    const defaults: RequestDefaults = { ...this.#defaults };
    if (options.timeout !== undefined) defaults.timeout = options.timeout;
    if (options.maxRetries !== undefined) defaults.maxRetries = options.maxRetries;
    if (options.defaultHeaders !== undefined) {
      // Checked here, where the caller can see it: a bad override would otherwise fail every call.
      readFailoverOverride(options.defaultHeaders);
      defaults.headers = mergeHeaders(defaults.headers, options.defaultHeaders);
    }
    if (options.defaultQuery !== undefined) defaults.query = { ...defaults.query, ...options.defaultQuery };
    if (options.fetchOptions !== undefined) defaults.fetchOptions = { ...defaults.fetchOptions, ...options.fetchOptions };
    const Ctor = this.constructor as new (options: ResilientOptions & { [kDerive]: Derivation }) => this;
    return new Ctor({ ...this._options, ...options, [kDerive]: { shared: this.#shared, defaults } });
  }

  /** Listen to `switched`, `breaker`, `recovered`, `retry` and `healthcheck`. A throwing listener never breaks a request. */
  on<E extends EventName>(event: E, listener: ResilientEvents[E]): this {
    this.#shared.core.emitter.on(event, listener);
    return this;
  }

  /** Like {@link on}, for one event only. */
  once<E extends EventName>(event: E, listener: ResilientEvents[E]): this {
    this.#shared.core.emitter.on(event, listener, true);
    return this;
  }

  /** Remove one listener, or all listeners of `event` when `listener` is omitted. */
  off<E extends EventName>(event: E, listener?: ResilientEvents[E]): this {
    this.#shared.core.emitter.off(event, listener);
    return this;
  }

  /** Number of listeners of `event` (across this client and those from `withOptions()`). */
  listenerCount(event: EventName): number {
    return this.#shared.core.emitter.listenerCount(event);
  }

  /** A JSON-ready snapshot of the endpoints and the health checks. Contains no secret. */
  getStatus(): ResilientStatus {
    const { core, health, closing, coordination, timer } = this.#shared;
    return snapshot(core.router, health, timer && !closing, closing !== undefined, coordination.status(), core.homes.status());
  }

  /**
   * Starts the background work now: the health timer and the coordination (Redis subscriptions
   * and re-reads). The first request or `checkPrimary()` starts them otherwise; nothing starts at
   * construction, so a client can be built at module scope on any runtime. Call it at boot when a
   * process should follow the cluster before its first call. Idempotent; does nothing after `close()`.
   */
  start(): this {
    startShared(this.#shared);
    return this;
  }

  /**
   * Probes the primary now: on success traffic switches back to it, on failure away from it.
   * Resolves `true`/`false`, never rejects. Concurrent calls share one probe.
   */
  checkPrimary(): Promise<boolean> {
    startShared(this.#shared);
    return this.#shared.health.check();
  }

  /** Name of the endpoint that currently gets traffic, e.g. `'primary'` or `'fallback'`. */
  get activeEndpoint(): string {
    return this.#shared.core.router.active.name;
  }

  /**
   * The inner `OpenAI` client of the active endpoint. For APIs that cannot fail over, such as the
   * SDK's WebSocket clients, which read `baseURL` and `apiKey` from the client they are given.
   */
  get activeClient(): OpenAI {
    return this.#shared.core.router.active.client;
  }

  /**
   * Stops the health timer and the coordination's background work (shared with `withOptions()`
   * clients). Idempotent; calls keep working. Returns at once; `await client[Symbol.asyncDispose]()`
   * (or `await using`) also waits until a shared probe lease, if any, is released.
   */
  close(): void {
    if (this.#shared.closing) return;
    this.#shared.health.stop();
    this.#shared.closing = this.#shared.coordination.close().catch(() => {});
  }

  /** `await using client = new ResilientOpenAI()` closes it at the end of the scope. */
  async [Symbol.asyncDispose](): Promise<void> {
    this.close();
    await this.#shared.closing;
  }
}
