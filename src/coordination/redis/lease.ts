import { log } from '../../observe/log.js';
import { text } from './codec.js';
import type { RedisCommands } from './commands.js';
import { LEASE_SCRIPT, RELEASE_SCRIPT } from './scripts.js';

/**
 * The health-probe lease: one process of the cluster probes the primary. A process becomes a
 * candidate when its health timer first asks, and from then on renews (or tries to take) the
 * lease every third of its life, so that a dead holder is replaced within about `leaseMs`.
 */
export class ProbeLease {
  /** The holder as last read from Redis, or null. */
  holder: string | null = null;
  #candidate = false;
  #timer: ReturnType<typeof setInterval> | undefined;
  #taking: Promise<string | null> | undefined;

  constructor(
    private readonly commands: RedisCommands,
    private readonly key: string,
    /** Read when needed: the id is drawn at first use. */
    private readonly owner: () => string,
    private readonly leaseMs: number,
  ) {}

  /** Whether this process runs this interval's probe; true when Redis cannot tell. */
  async shouldProbe(): Promise<boolean> {
    if (!this.#candidate) {
      this.#candidate = true;
      this.#timer = setInterval(() => void this.#take().catch(() => {}), Math.max(10, Math.floor(this.leaseMs / 3)));
      this.#timer.unref?.();
    }
    try {
      return (await this.#take()) === this.owner();
    } catch {
      // Redis cannot tell: probe locally.
      return true;
    }
  }

  /** After a re-read found no holder: a candidate takes the lease at once. */
  async takeIfFree(): Promise<void> {
    if (this.#candidate && this.holder === null) await this.#take();
  }

  /** Stops renewing and gives the lease up if it is ours. Never rejects. */
  async release(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    if (this.#candidate) await this.commands.send(['EVAL', RELEASE_SCRIPT, '1', this.key, this.owner()]).catch(() => {});
    if (this.holder === this.owner()) this.holder = null;
  }

  /** Takes or renews the lease; resolves the holder. One attempt at a time. */
  #take(): Promise<string | null> {
    this.#taking ??= this.commands
      .send(['EVAL', LEASE_SCRIPT, '1', this.key, this.owner(), String(this.leaseMs)])
      .then((reply) => {
        const holder = text(reply);
        if (holder !== this.holder) log('coordination: probe lease held by %s', holder ?? 'nobody');
        this.holder = holder;
        return holder;
      })
      .finally(() => {
        this.#taking = undefined;
      });
    return this.#taking;
  }
}
