// What `client.fetch` receives (a URL a host library built for its own base URL, its headers and
// body) turned into the options of one SDK request, so that the call takes exactly the path an
// SDK method's call takes: endpoint choice, credentials, model map, retries, stream checks.
import type { RequestOptions } from '../call/types.js';
import { redactURL } from '../observe/redact.js';
import { resourceOf } from '../routing/stateful.js';

export type FetchInput = string | URL | Request;

const METHODS = new Set(['get', 'post', 'put', 'patch', 'delete']);

/**
 * The caller's headers that belong to the endpoint or the transport, not to the call: the host
 * library's key and organization were meant for the origin it was configured with; the endpoint
 * adds its own. The SDK's `x-stainless-*` headers are its own again (retry count, timeout).
 */
const ENDPOINT_HEADERS = new Set([
  'authorization',
  'api-key',
  'openai-organization',
  'openai-project',
  'host',
  'content-length',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'accept-encoding',
]);

function fail(message: string): never {
  throw new TypeError(`resilient-openai: client.fetch(): ${message}`);
}

/** An absolute URL redacted, a relative one as given (it has no userinfo); cut to a readable length. */
function shown(url: string): string {
  const redacted = /^[a-z][a-z0-9+.-]*:/i.test(url) ? redactURL(url) : '[invalid URL]';
  // One that does not parse is shown without what could be a credential: userinfo and query.
  const text = redacted !== '[invalid URL]' ? redacted : url.replace(/\/\/[^/]*@/, '//***@').replace(/\?.*$/, '?…');
  return JSON.stringify(text.length > 200 ? `${text.slice(0, 200)}…` : text);
}

/** The API path after the first `/v1` segment, e.g. `/chat/completions`; throws for any other URL. */
function apiPath(href: string): { path: string; search: URLSearchParams } {
  let url: URL;
  try {
    url = new URL(href, 'http://relative.invalid');
  } catch {
    fail(`${shown(href)} is not a URL`);
  }
  const segments = url.pathname.split('/');
  const v1 = segments.indexOf('v1');
  const path = v1 === -1 ? '' : '/' + segments.slice(v1 + 1).join('/');
  if (v1 === -1 || !resourceOf(path)) {
    fail(
      `${shown(href)} is not an OpenAI API URL: it needs a path such as /v1/chat/completions (keep the host library's base URL ending in /v1)`,
    );
  }
  return { path: path.replace(/\/+$/, ''), search: url.searchParams };
}

/** The query as the SDK takes it: repeated `name[]` values become one array, as the SDK writes them. */
function queryOf(search: URLSearchParams): Record<string, unknown> | undefined {
  let query: Record<string, unknown> | undefined;
  for (const name of new Set(search.keys())) {
    const values = search.getAll(name);
    const key = name.endsWith('[]') ? name.slice(0, -2) : name;
    (query ??= {})[key] = values.length > 1 || key !== name ? values : values[0];
  }
  return query;
}

const isJSONType = (type: string | null) => type !== null && /[/+]json\b/i.test(type);

function parseJSON(text: string, where: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fail(`the request body is not valid JSON (${where}); nothing was sent`);
  }
}

/**
 * The body as the SDK sends it again on every attempt. JSON becomes an object (so the endpoint's
 * model map, the stream flag and the stored ids it names are read, as for an SDK call); form data
 * and bytes are sent as they are; a stream is read once, so that a retry can send it again.
 */
async function bodyOf(body: unknown, headers: Headers): Promise<{ value: unknown; json: boolean }> {
  const type = headers.get('content-type');
  if (typeof body === 'string') {
    if (isJSONType(type)) return { value: parseJSON(body, 'string body'), json: true };
    if (type === null) {
      // fetch() would send it as text/plain; a JSON text without a content type is JSON.
      try {
        return { value: JSON.parse(body) as unknown, json: true };
      } catch {
        headers.set('content-type', 'text/plain;charset=UTF-8');
      }
    }
    return { value: body, json: false };
  }
  if (body instanceof FormData || body instanceof URLSearchParams) return { value: body, json: false };
  let bytes: Uint8Array | Blob;
  if (body instanceof ReadableStream) {
    if (body.locked) fail('the request body stream is locked (already being read); nothing was sent');
    try {
      bytes = new Uint8Array(await new Response(body).arrayBuffer());
    } catch (error) {
      return fail(`the request body stream could not be read (${(error as Error)?.message ?? String(error)}); nothing was sent`);
    }
  } else if (body instanceof ArrayBuffer) bytes = new Uint8Array(body);
  else if (ArrayBuffer.isView(body)) bytes = new Uint8Array(body.buffer, body.byteOffset, body.byteLength);
  else if (body instanceof Blob) bytes = body;
  else
    return fail(
      `the request body is of type ${Object.prototype.toString.call(body).slice(8, -1)}, which fetch() does not send; nothing was sent`,
    );
  if (!isJSONType(type)) return { value: bytes, json: false };
  const text = bytes instanceof Blob ? await bytes.text() : new TextDecoder().decode(bytes);
  return { value: parseJSON(text, 'byte body'), json: true };
}

/** A whole binary file, not JSON: the SDK reads these raw too. */
function isBinary(path: string): boolean {
  return path === '/audio/speech' || path.endsWith('/content');
}

/**
 * The SDK request options for one `fetch(input, init)`: method, API path, query, headers (less
 * the endpoint's own), body, signal, and whether it streams. Throws a TypeError, before anything
 * is sent, for a URL outside the OpenAI API or a body that cannot be read.
 */
export async function toRequestOptions(input: FetchInput, init: RequestInit | undefined): Promise<RequestOptions> {
  const request = typeof Request !== 'undefined' && input instanceof Request ? input : undefined;
  if (!request && typeof input !== 'string' && !(input instanceof URL)) {
    fail(`the first argument must be a URL string, a URL or a Request; got ${input === null ? 'null' : typeof input}`);
  }
  const href =
    request ? request.url
    : input instanceof URL ? input.href
    : (input as string);
  const { path, search } = apiPath(href);
  const method = (init?.method ?? request?.method ?? 'GET').toLowerCase();
  if (!METHODS.has(method))
    fail(`method ${JSON.stringify(init?.method ?? request?.method)} is not one the OpenAI API uses (GET, POST, PUT, PATCH, DELETE)`);
  const headers = new Headers(init?.headers ?? request?.headers);
  let rawBody: unknown = init && 'body' in init ? init.body : undefined;
  if (rawBody === undefined && request?.body) {
    if (request.bodyUsed) fail('the Request body was already read; nothing was sent');
    rawBody = request.body;
  }
  if (rawBody != null && method === 'get') fail('a GET request cannot have a body; nothing was sent');
  const { value: body, json } = rawBody == null ? { value: undefined, json: false } : await bodyOf(rawBody, headers);
  // The SDK writes its own content type for JSON, and fetch() the boundary of form data.
  if (json || body instanceof FormData) headers.delete('content-type');
  const own: Record<string, string> = {};
  headers.forEach((value, name) => {
    if (!ENDPOINT_HEADERS.has(name) && !name.startsWith('x-stainless-')) own[name] = value;
  });
  const query = queryOf(search);
  const stream = (json && (body as { stream?: unknown } | null)?.stream === true) || (method === 'get' && query?.stream === 'true');
  const options: RequestOptions = { method: method as RequestOptions['method'], path, headers: own };
  if (query) options.query = query;
  if (body !== undefined) options.body = body;
  const signal = init?.signal ?? request?.signal;
  if (signal) options.signal = signal;
  if (stream) options.stream = true;
  else if (isBinary(path)) options.__binaryResponse = true;
  return options;
}
