import { log } from '../../observe/log.js';
import type { RedisConnection } from './client-adapter.js';
import { describe } from './codec.js';

/** Commands of ours still unanswered (a frozen server) beyond which we stop sending more. */
export const MAX_OUTSTANDING = 64;

class RedisTimeoutError extends Error {
  constructor(ms: number) {
    super(`Redis command timed out after ${ms}ms`);
    this.name = 'RedisTimeoutError';
  }
}

/**
 * Every command the coordination sends, under the library's own timeout (some clients never time
 * out a command to a frozen server), and the record of whether Redis answers.
 */
export class RedisCommands {
  #outstanding = 0;
  #lastOkAt = 0;
  #failing = true;

  constructor(
    private readonly conn: RedisConnection,
    readonly timeoutMs: number,
  ) {}

  /** Sends one command; rejects when the client is not ready, too much is unanswered, or it times out. */
  async send(args: string[]): Promise<unknown> {
    if (!this.conn.ready()) {
      this.#down('client not ready');
      throw new Error('Redis client not ready');
    }
    if (this.#outstanding >= MAX_OUTSTANDING) {
      this.#down('too many unanswered commands');
      throw new Error('too many unanswered Redis commands');
    }
    this.#outstanding++;
    const sent = this.conn.send(args).finally(() => this.#outstanding--);
    try {
      const reply = await this.bound(sent);
      if (this.#failing) log('coordination: Redis reachable; sharing breaker state');
      this.#failing = false;
      this.#lastOkAt = Date.now();
      return reply;
    } catch (error) {
      this.#down(describe(error));
      if (error instanceof RedisTimeoutError) this.#stalled(args);
      throw error;
    }
  }

  #nudging = false;

  /** Tells the client a command went unanswered (one such nudge at a time, each bounded). */
  #stalled(args: string[]): void {
    if (this.#nudging || !this.conn.stalled) return;
    this.#nudging = true;
    void this.bound(this.conn.stalled(args))
      .catch(() => {})
      .finally(() => (this.#nudging = false));
  }

  /** Races `promise` against the command timeout. */
  bound<T>(promise: Promise<T>): Promise<T> {
    promise.catch(() => {});
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new RedisTimeoutError(this.timeoutMs)), this.timeoutMs);
      timer.unref?.();
    });
    return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
  }

  /** Whether Redis answered within the last `withinMs` (plus one command timeout) and not failed since. */
  answering(withinMs: number): boolean {
    return !this.#failing && Date.now() - this.#lastOkAt <= withinMs + this.timeoutMs;
  }

  #down(reason: string): void {
    if (!this.#failing) log('coordination: Redis unavailable (%s); deciding locally', reason);
    this.#failing = true;
  }
}
