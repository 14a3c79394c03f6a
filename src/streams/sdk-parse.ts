import type { APIPromise } from 'openai';
import { loadedGuard } from './load-guard.js';

type Props = { response: Response };
type Parse = (client: unknown, props: Props) => unknown;

/**
 * What the SDK's parser gets for a guarded stream: the response's fields, with a body that reads
 * the guarded bytes directly. The parser (openai 6 and 7) reads only these fields, and it reads
 * `body` eagerly for a debug log: on the Response itself that would make the ReadableStream the
 * parser never uses (10-15 µs in Node 20).
 */
class Shell {
  constructor(
    private readonly response: Response,
    readonly body: AsyncIterable<Uint8Array>,
  ) {}
  get headers(): Headers {
    return this.response.headers;
  }
  get status(): number {
    return this.response.status;
  }
  get statusText(): string {
    return this.response.statusText;
  }
  get ok(): boolean {
    return this.response.ok;
  }
  get url(): string {
    return this.response.url;
  }
}

let parseGuarded: Parse | undefined;

/**
 * Makes `promise` parse a guarded stream through its shell (see shellOf), and every other answer
 * as the SDK does. The Response that `asResponse()` and `withResponse()` give is the real one:
 * its `body` is a ReadableStream of the same guarded bytes, made when someone reads it.
 */
export function parsingGuarded<T>(promise: APIPromise<T>): APIPromise<T> {
  // The SDK's parse function is a constructor argument it keeps in a field; wrapped once.
  const fields = promise as unknown as { parseResponse: Parse };
  if (!parseGuarded) {
    const parse = fields.parseResponse;
    parseGuarded = (client, props) => {
      // No guard loaded: no stream has been guarded yet.
      const body = loadedGuard()?.sdkBody(props.response);
      return parse(client, body ? { ...props, response: new Shell(props.response, body) as unknown as Response } : props);
    };
  }
  fields.parseResponse = parseGuarded;
  return promise;
}
