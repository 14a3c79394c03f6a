import { log } from '../../observe/log.js';
import { text } from './codec.js';
import { MAX_OUTSTANDING, type RedisCommands } from './commands.js';
import type { NamespaceKeys } from './keys.js';

/**
 * Our SETs unanswered at once, all calls together: half the command cap, so that an answer
 * listing many ids can never crowd out breaker changes and re-reads (nor, by hitting the cap,
 * make Redis look down). Ids beyond it are not shared; this process still remembers them.
 */
const MAX_SETS_IN_FLIGHT = MAX_OUTSTANDING / 2;
/** Ids one lookup asks for: a call naming more (a long `file_ids`) looks up its first ones. */
const MAX_LOOKUP = 100;
/** Longer strings are never looked up (affinity/named-ids.ts skips them): not worth a key. */
const MAX_ID_LENGTH = 200;

/** Maps a stored endpoint id back to this process's endpoint name, if it has that endpoint. */
export type EndpointName = (endpointId: string) => string | undefined;

/**
 * Which endpoint created each stored id, shared through Redis: one string key per id,
 * `{namespace}:home:${id}` (keys.ts), holding the endpoint's coordinated id (a hash that carries
 * no URL and no key), with the TTL the client remembers ids for. One SET per id: separate SETs
 * cost no extra round trips, since node-redis and ioredis pipeline the commands sent in one tick.
 */
export class SharedHomes {
  #inFlight = 0;
  /** Ids were dropped at the cap (logged once until a remember fits again). */
  #dropping = false;

  constructor(
    private readonly commands: RedisCommands,
    private readonly keys: NamespaceKeys,
  ) {}

  #key(id: string): string {
    return this.keys.home(id);
  }

  /** Fire and forget: never throws, never waits; a SET that fails only marks Redis as down. */
  remember(ids: readonly string[], endpointId: string, ttlMs: number): void {
    if (!Number.isFinite(ttlMs) || ttlMs < 1) return;
    const px = String(Math.round(ttlMs));
    for (const id of new Set(ids)) {
      if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH) continue;
      if (this.#inFlight >= MAX_SETS_IN_FLIGHT) {
        if (!this.#dropping) log('coordination: too many ids waiting for Redis; sharing only some of them');
        this.#dropping = true;
        return;
      }
      this.#inFlight++;
      void this.commands
        .send(['SET', this.#key(id), endpointId, 'PX', px])
        .catch(() => {
          // Recorded by RedisCommands (Redis is down); this process still knows the id.
        })
        .finally(() => this.#inFlight--);
    }
    this.#dropping = false;
  }

  /**
   * The first of `ids` (in their order) whose stored endpoint this process has. One MGET under
   * the command timeout. Never rejects: an error resolves undefined. On a Redis Cluster the keys
   * share the namespace's slot (keys.ts), so one MGET serves there too.
   */
  async find(ids: readonly string[], endpointName: EndpointName): Promise<{ id: string; endpoint: string } | undefined> {
    try {
      const asked = [...new Set(ids)]
        .filter((id) => typeof id === 'string' && id.length > 0 && id.length <= MAX_ID_LENGTH)
        .slice(0, MAX_LOOKUP);
      if (asked.length === 0) return undefined;
      const reply = await this.commands.send(['MGET', ...asked.map((id) => this.#key(id))]);
      const values = Array.isArray(reply) ? (reply as unknown[]) : [];
      for (let i = 0; i < asked.length; i++) {
        const stored = text(values[i]);
        const endpoint = stored === null ? undefined : endpointName(stored);
        if (endpoint !== undefined) return { id: asked[i]!, endpoint };
      }
    } catch (error) {
      // Only the error's name: this process decides alone, as when Redis is down.
      log('coordination: id lookup failed (%s); deciding locally', error instanceof Error ? error.name : typeof error);
    }
    return undefined;
  }
}
