import type { OpenAI } from 'openai';
import { mergeHeaders } from './headers.js';
import type { ModelMap } from './options.js';
import type { RequestDefaults, RequestOptions } from './execute.js';
import type { Endpoint } from './router.js';

/** Request header that overrides, for one call, whether it may fail over; never sent upstream. */
const FAILOVER_HEADER = 'x-resilient-failover';

/** `'allow'`: the call may fail over; `'deny'`: it stays on the endpoint it started on. */
export type FailoverOverride = 'allow' | 'deny';

/** Reads the per-call override from the caller's headers (any shape the SDK accepts). */
export function readFailoverOverride(headers: unknown): FailoverOverride | undefined {
  if (!headers) return undefined;
  const value = mergeHeaders(undefined, headers)[FAILOVER_HEADER];
  return value === 'allow' || value === 'deny' ? value : undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function mapModel(models: ModelMap, model: unknown): unknown {
  if (typeof model !== 'string') return model;
  return typeof models === 'function' ? models(model) : (models[model] ?? model);
}

function withModel(body: unknown, models: ModelMap): unknown {
  if (isPlainObject(body)) return 'model' in body ? { ...body, model: mapModel(models, body.model) } : body;
  if (body instanceof FormData && typeof body.get('model') === 'string') {
    const copy = new FormData();
    body.forEach((value, key) => copy.append(key, key === 'model' ? (mapModel(models, value) as string) : value));
    return copy;
  }
  return body;
}

/**
 * The options of one attempt. Inner clients mutate what they are given (Azure rewrites `path`,
 * openai 7 `body`), so each attempt gets its own copy and the caller's object stays intact for
 * parsing and next pages.
 */
export function prepareAttempt(
  options: RequestOptions,
  endpoint: Endpoint,
  signal: AbortSignal | undefined,
  timeout: number,
  defaults: RequestDefaults,
  hasOverride: boolean,
): RequestOptions {
  const copy: RequestOptions = { ...options, maxRetries: 0, signal, timeout };
  if (options.__metadata) copy.__metadata = { ...options.__metadata };
  // Only the options object is rewritten by inner clients, never the body, so the body is copied
  // only when its model name changes.
  if (endpoint.models) copy.body = withModel(options.body, endpoint.models);
  if (defaults.headers || hasOverride) {
    const headers = mergeHeaders(defaults.headers, options.headers);
    delete headers[FAILOVER_HEADER];
    copy.headers = headers;
  }
  if (defaults.query) copy.query = { ...defaults.query, ...(options.query as object | undefined) };
  if (defaults.fetchOptions) copy.fetchOptions = { ...defaults.fetchOptions, ...options.fetchOptions };
  return copy;
}

/** The SDK's per-request options type (kept internal by the SDK; derived from a public method). */
export type PerRequestOptions = NonNullable<Parameters<OpenAI['models']['list']>[0]>;

/**
 * Request options that let one call fail over (`'allow'`), or keep it on its endpoint (`'deny'`),
 * whatever the policy says about stateful calls. Merge your own request options in:
 * `client.files.list({}, withFailover('allow', { timeout: 5000 }))`.
 */
export function withFailover(mode: FailoverOverride, options?: PerRequestOptions): PerRequestOptions {
  if (mode !== 'allow' && mode !== 'deny') {
    throw new TypeError(`resilient-openai: expected the failover mode to be 'allow' or 'deny', got ${JSON.stringify(mode)}`);
  }
  return { ...options, headers: mergeHeaders(options?.headers, { [FAILOVER_HEADER]: mode }) };
}
