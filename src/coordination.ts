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

/** Nothing shared: every process decides alone (the default). */
export function localCoordination(instanceId: string): Coordination {
  return {
    backend: 'local',
    instanceId,
    start: () => {},
    publish: () => {},
    shouldProbe: () => Promise.resolve(true),
    status: () => ({ backend: 'local', active: false, instanceId, probeLeaseHolder: null }),
    close: () => Promise.resolve(),
  };
}
