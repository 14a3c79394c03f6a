import { recordMode, type RecordMode } from '../affinity/answer-ids.js';
import { isStatefulRequest } from '../routing/stateful.js';
import { readFailoverOverride, type FailoverOverride } from './failover-override.js';
import { mergeHeaders } from './headers.js';
import type { Core, RequestDefaults, RequestOptions } from './types.js';

/** What is fixed about a call before its first attempt. */
export interface CallPlan {
  readonly options: RequestOptions;
  readonly defaults: RequestDefaults;
  readonly signal: AbortSignal | undefined;
  /** Attempts including the first: per-request `maxRetries`, then the policy, then the client's. */
  readonly maxAttempts: number;
  readonly isStream: boolean;
  /** A whole (non-streaming, non-binary) answer, read inside the attempt. */
  readonly bufferable: boolean;
  /** The caller's per-call `x-resilient-failover` header, if any. */
  readonly override: FailoverOverride | undefined;
  /** The call stays on the endpoint of its first attempt (it addresses server-side state). */
  readonly pinned: boolean;
  /** Which ids of the answer are remembered with the endpoint that gave it. */
  readonly records: RecordMode;
  /** A page of a list: its options remember the endpoint, for the next page. */
  readonly list: boolean;
  /** A call through `client.fetch`: each failed attempt's HTTP answer is kept, to be returned as is. */
  readonly raw: boolean;
  readonly requestLogID: string;
  readonly startTime: number;
  /** No attempt starts, and no retry waits, past this time. */
  readonly deadlineAt: number;
}

function logID(): string {
  return 'log_' + ((Math.random() * (1 << 24)) | 0).toString(16).padStart(6, '0');
}

export function planCall(
  core: Core,
  clientMaxRetries: number,
  options: RequestOptions,
  defaults: RequestDefaults,
  list: boolean,
  raw: boolean,
): CallPlan {
  const perCallRetries = options.maxRetries ?? defaults.maxRetries;
  const isStream = options.stream === true;
  // A per-call override wins over one set with withOptions(); merged only when there is a default.
  const override = readFailoverOverride(defaults.headers ? mergeHeaders(defaults.headers, options.headers) : options.headers);
  const { failover } = core;
  const request = { method: options.method, path: options.path, body: options.body };
  const startTime = Date.now();
  return {
    options,
    defaults,
    signal: options.signal ?? undefined,
    maxAttempts: perCallRetries != null ? perCallRetries + 1 : (core.retry.maxAttempts ?? clientMaxRetries + 1),
    isStream,
    bufferable: !isStream && !options.__binaryResponse,
    override,
    pinned:
      override ? override === 'deny'
      : failover.staysOnEndpoint ? failover.staysOnEndpoint(request)
      : isStatefulRequest(request),
    records: recordMode(options.method, options.path, options.body),
    list,
    raw,
    requestLogID: logID(),
    startTime,
    deadlineAt: startTime + core.timeouts.deadlineMs,
  };
}
