import { mergeHeaders } from './headers.js';
import type { PerRequestOptions } from './types.js';

/** Request header that overrides, for one call, whether it may fail over; never sent upstream. */
export const FAILOVER_HEADER = 'x-resilient-failover';

/** `'allow'`: the call may fail over; `'deny'`: it stays on the endpoint it started on. */
export type FailoverOverride = 'allow' | 'deny';

/**
 * Reads the per-call override from the caller's headers (any shape the SDK accepts). The value is
 * `allow` or `deny` in any case; `null` or no header means none.
 * @throws TypeError naming the header and the value for any other value, before any request is sent.
 */
export function readFailoverOverride(headers: unknown): FailoverOverride | undefined {
  if (!headers) return undefined;
  const value = mergeHeaders(undefined, headers)[FAILOVER_HEADER];
  if (value === null || value === undefined) return undefined;
  const mode = String(value).trim().toLowerCase();
  if (mode === 'allow' || mode === 'deny') return mode;
  throw new TypeError(`resilient-openai: expected the \`${FAILOVER_HEADER}\` header to be 'allow' or 'deny', got ${JSON.stringify(value)}`);
}

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
