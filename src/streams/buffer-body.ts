import { APIConnectionTimeoutError } from 'openai';
import { bodyFailure, concat } from './body-read.js';

function withURL(response: Response, original: Response): Response {
  // A rebuilt Response has no URL; keep the real one for logs and withResponse() users.
  Object.defineProperty(response, 'url', { value: original.url, configurable: true });
  return response;
}

/** What a replayed response holds: its bytes, and their text and parse once made. */
interface Body {
  readonly bytes: Uint8Array;
  text: string | undefined;
  json: unknown;
  parsed: boolean;
}
// One property on the Response (each one added is a shape change V8 pays for on every call).
const kBody = Symbol('resilient-openai.body');
type Replayed = Response & { [kBody]: Body };
const decoder = new TextDecoder();

function textOf(response: Replayed): string {
  const body = response[kBody];
  return (body.text ??= decoder.decode(body.bytes));
}

// Parsed once: the library reads the ids of stored objects from the same parse the SDK returns.
function jsonOf(response: Replayed): unknown {
  const body = response[kBody];
  if (!body.parsed) {
    body.json = JSON.parse(textOf(response)) as unknown;
    body.parsed = true;
  }
  return body.json;
}

/**
 * The parsed JSON body of a buffered answer, or undefined when it is not one (not buffered, not
 * JSON). The SDK's own `json()` later returns the same parse.
 */
export function bufferedJSON(response: Response): unknown {
  if (!(kBody in response) || !response.headers.get('content-type')?.includes('json')) return undefined;
  try {
    return jsonOf(response as Replayed);
  } catch {
    return undefined;
  }
}

// Shared descriptors (no per-call closures): the methods read the bytes stored on the instance.
const REPLAY: PropertyDescriptorMap = {
  body: {
    get(this: Replayed) {
      return new Blob([this[kBody].bytes.slice()]).stream();
    },
    configurable: true,
  },
  bodyUsed: { value: false, configurable: true },
  text: {
    value(this: Replayed) {
      return Promise.resolve(this).then(textOf);
    },
    configurable: true,
  },
  json: {
    value(this: Replayed) {
      return Promise.resolve(this).then(jsonOf);
    },
    configurable: true,
  },
  arrayBuffer: {
    value(this: Replayed) {
      return Promise.resolve(this[kBody].bytes.slice().buffer);
    },
    configurable: true,
  },
  bytes: {
    value(this: Replayed) {
      return Promise.resolve(this[kBody].bytes.slice());
    },
    configurable: true,
  },
  blob: {
    value(this: Replayed) {
      return Promise.resolve(new Blob([this[kBody].bytes.slice()], { type: this.headers.get('content-type') ?? '' }));
    },
    configurable: true,
  },
  clone: {
    value(this: Replayed) {
      return withURL(new Response(this[kBody].bytes.slice(), this), this);
    },
    configurable: true,
  },
};

// One prototype for every replayed response: a single prototype switch per call instead of
// defining eight properties on each instance. Made at first use: reading `Response` at import
// would load Node's fetch implementation into every process that imports the package.
let ReplayPrototype: Response | undefined;

/**
 * Makes `response` serve its already-read body again: every body method and `body` itself work
 * as on a fresh Response.
 */
function replayable(response: Response, bytes: Uint8Array): Response {
  (response as Replayed)[kBody] = { bytes, text: undefined, json: undefined, parsed: false };
  return Object.setPrototypeOf(response, (ReplayPrototype ??= Object.create(Response.prototype, REPLAY) as Response)) as Response;
}

/**
 * Reads a non-streaming body inside the attempt, so that a cut or stalled body is an attempt
 * failure (retried, failed over) instead of an error after the call returned. Cancelling the
 * reader on timeout closes the connection; no AbortSignal is needed on this path.
 */
export async function bufferBody(response: Response, ms: number, signal: AbortSignal | undefined): Promise<Response> {
  const reader = response.body?.getReader();
  if (!reader) return response;
  let timedOut = false;
  const timer = setTimeout(
    () => {
      timedOut = true;
      reader.cancel().catch(() => {});
    },
    Math.max(0, ms),
  );
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (timedOut) break;
      if (done) return replayable(response, concat(chunks, size));
      chunks.push(value);
      size += value.length;
    }
  } catch (error) {
    if (!timedOut) throw bodyFailure(error, signal, 'the response body');
  } finally {
    clearTimeout(timer);
  }
  throw new APIConnectionTimeoutError({ message: 'Timed out waiting for the response body.' });
}
