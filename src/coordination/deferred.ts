import { log } from '../observe/log.js';
import type { CoordinatedEndpoint, Coordination, CoordinationStatus, FoundHome, LocalChange, RemoteChange } from '../options/contracts.js';
import { randomInstanceId } from './instance-id.js';

/**
 * A coordination whose code is loaded on first use: the Redis backend is an eighth of the package,
 * and an app that never creates one should not compile it at every cold start (BENCHMARKS.md step
 * 7). Until it is there (a few ms after createRedisCoordination()), what arrives is kept in order
 * and handed over, or answered as the backend itself would answer before it reached Redis:
 * inactive, no shared home, probe locally.
 */
export class DeferredCoordination implements Coordination {
  #impl: Coordination | undefined;
  #failed = false;
  #closed = false;
  #instanceId: string | undefined;
  /** Calls made before the backend was loaded, replayed on it in order. */
  #queue: ((impl: Coordination) => void)[] = [];
  readonly #ready: Promise<Coordination | undefined>;

  /** `load` brings the backend's module and returns its constructor, given the id drawn so far. */
  constructor(
    readonly backend: string,
    configuredId: string | undefined,
    load: () => Promise<(instanceId: string | undefined) => Coordination>,
  ) {
    this.#instanceId = configuredId;
    this.#ready = load().then(
      (make) => this.#adopt(make(this.#instanceId)),
      (error: unknown) => {
        // The module could not be loaded (a broken install or bundle): this process decides alone.
        log('coordination: the %s backend could not be loaded (%s); deciding locally', backend, String(error));
        this.#failed = true;
        this.#queue = [];
        return undefined;
      },
    );
  }

  #adopt(impl: Coordination): Coordination {
    this.#impl = impl;
    // Closed before it arrived: nothing to start.
    if (!this.#closed) for (const call of this.#queue) call(impl);
    this.#queue = [];
    return impl;
  }

  get instanceId(): string {
    if (this.#impl) return this.#impl.instanceId;
    // Drawn on first use (Workers forbid random values at module scope), and kept for the backend.
    return (this.#instanceId ??= randomInstanceId());
  }

  #later(call: (impl: Coordination) => void): void {
    if (this.#impl) call(this.#impl);
    else if (!this.#failed) this.#queue.push(call);
  }

  start(endpoints: readonly CoordinatedEndpoint[], onRemote: (change: RemoteChange) => void): void {
    this.#later((impl) => impl.start(endpoints, onRemote));
  }

  publish(change: LocalChange): void {
    this.#later((impl) => impl.publish(change));
  }

  rememberHomes(ids: readonly string[], endpoint: string, ttlMs: number): void {
    // Before the backend is loaded it has not reached Redis either, and would drop these too.
    this.#impl?.rememberHomes?.(ids, endpoint, ttlMs);
  }

  findHome(ids: readonly string[]): Promise<FoundHome | undefined> {
    return this.#impl?.findHome?.(ids) ?? Promise.resolve(undefined);
  }

  shouldProbe(): Promise<boolean> {
    // At once, as the backend answers while it has not reached Redis: probe locally.
    return this.#impl ? this.#impl.shouldProbe() : Promise.resolve(true);
  }

  status(): CoordinationStatus {
    if (this.#impl) return this.#impl.status();
    return { backend: this.backend, active: false, instanceId: this.instanceId, probeLeaseHolder: null };
  }

  close(): Promise<void> {
    this.#closed = true;
    return this.#ready.then((impl) => impl?.close());
  }
}
