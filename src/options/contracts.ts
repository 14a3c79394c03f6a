// The parts a user can plug in: routing policies and the coordination between processes. Types
// only, importing nothing, so that every layer can name them and every import points down.

// Routing policies (implemented by routing/retry-policy.ts and routing/failover-policy.ts).

/** What a policy sees of a call when deciding whether it may leave its endpoint. */
export interface RequestInfo {
  /** HTTP method, as the SDK spells it (`'post'`, `'get'`, …). */
  readonly method: string;
  /** Path as the SDK builds it, e.g. `/chat/completions` or `/files/file_123`. */
  readonly path: string;
  /** The request body: params object, `FormData` for uploads, or undefined. */
  readonly body: unknown;
}

/** What the client knows about a failed attempt when it asks a policy what to do next. */
export interface AttemptContext {
  /** The SDK error of the failed attempt (`APIError` subclass, `APIConnectionError`, ...). */
  readonly error: unknown;
  /** Number of the attempt that failed (1-based). */
  readonly attempt: number;
  /** Name of the endpoint the attempt went to. */
  readonly endpoint: string;
}

/** Decides whether a failed attempt is retried on the same endpoint, and after how long. */
export interface RetryPolicy {
  /** Attempts per call including the first; `undefined` defers to `maxRetries + 1`. */
  readonly maxAttempts?: number | undefined;
  /** Whether the failed attempt is retried on the same endpoint. */
  shouldRetry(context: AttemptContext): boolean;
  /** Milliseconds to wait before the next attempt. */
  delayMs(context: AttemptContext): number;
}

/** Decides whether a failed attempt switches traffic to the next endpoint (immediately, no sleep). */
export interface FailoverPolicy {
  /** Whether the failed attempt moves the call to the next endpoint at once. */
  shouldFailover(context: AttemptContext): boolean;
  /**
   * Whether a call must stay on the endpoint it started on (it addresses server-side state).
   * When absent, calls on files, batches, threads, vector stores, … stay; see `isStatefulRequest`.
   */
  staysOnEndpoint?(request: RequestInfo): boolean;
}

// Coordination between processes (implemented by coordination/local.ts and coordination/redis/).

/**
 * Shares breaker state between processes. The default keeps everything local; a shared one (see
 * `createRedisCoordination`) lets every instance act on what any instance saw.
 */
export interface Coordination {
  /** Name of the backend, for status: `'local'`, `'redis'`. */
  readonly backend: string;
  /** This process's id in the cluster (random unless configured). */
  readonly instanceId: string;
  /**
   * Starts background work (connections, subscriptions, periodic re-reads) for these endpoints.
   * Must not throw or reject: a backend that is down degrades to local decisions.
   */
  start(endpoints: readonly CoordinatedEndpoint[], onRemote: (change: RemoteChange) => void): void;
  /** Shares a local breaker change. Fire and forget: never throws, never blocks a call. */
  publish(change: LocalChange): void;
  /**
   * Whether this instance runs the health probe of this interval (one prober per cluster).
   * Resolves `true` when the backend cannot tell (down, or local): probing then stays local.
   */
  shouldProbe(): Promise<boolean>;
  /** A snapshot for `getStatus().coordination`. */
  status(): CoordinationStatus;
  /** Stops background work and gives up the probe lease. Idempotent. */
  close(): Promise<void>;
  /**
   * Optional: shares which endpoint created stored ids (responses, files, ...), for `ttlMs`, so
   * that another process sends calls on them to the same endpoint. Fire and forget: never throws.
   */
  rememberHomes?(ids: readonly string[], endpoint: string, ttlMs: number): void;
  /**
   * Optional: the endpoint that created the first of `ids` another process remembered. Resolves
   * undefined when none is known or the backend cannot tell (down); never rejects for long.
   */
  findHome?(ids: readonly string[]): Promise<FoundHome | undefined>;
}

/** What {@link Coordination.findHome} found. */
export interface FoundHome {
  /** The id another process remembered. */
  readonly id: string;
  /** Name of the endpoint that created it. */
  readonly endpoint: string;
}

/** An endpoint as the coordination knows it: a stable id that carries no secret. */
export interface CoordinatedEndpoint {
  /** Endpoint name, e.g. `'primary'`. */
  readonly name: string;
  /** A hash of the name and redacted base URL: the same endpoint has the same id in every process. */
  readonly id: string;
}

/** A breaker change seen by this process. */
export interface LocalChange {
  /** Endpoint name. */
  readonly endpoint: string;
  /** `'open'`: stop sending to it; `'closed'`: it recovered. */
  readonly state: 'open' | 'closed';
  /**
   * With `'open'`: the endpoint answered a quota error or asked for a long wait, and is held out of
   * traffic until `until` (milliseconds since the epoch, this process's clock).
   */
  readonly hold?: EndpointHold | undefined;
}

/** An endpoint held out of traffic until a moment, whatever its breaker would otherwise allow. */
export interface EndpointHold {
  /** When the hold ends: milliseconds since the epoch, by the clock of the process that saw it. */
  readonly until: number;
  /** `'quota'`: a 429 that waiting never heals; `'rate-limit'`: a long wait asked for. */
  readonly reason: 'quota' | 'rate-limit';
}

/** A breaker change seen by another process. */
export interface RemoteChange extends LocalChange {
  /** The process that saw it. */
  readonly instanceId: string;
  /** Orders changes across processes and backend restarts (larger is newer). */
  readonly epoch: number;
}

/** Coordination as shown in `getStatus()`. */
export interface CoordinationStatus {
  /** `'local'` or `'redis'`. */
  backend: string;
  /** Whether the shared backend is reachable now (always false for `'local'`). */
  active: boolean;
  /** This process's id. */
  instanceId: string;
  /** Instance that holds the health-probe lease, when known. */
  probeLeaseHolder: string | null;
}
