import { freePort } from '../redis-server.js';

/** A URL (with /v1) on 127.0.0.1 where nothing listens: connecting to it is refused. */
export async function refusedURL(): Promise<string> {
  return `http://127.0.0.1:${await freePort()}/v1`;
}
