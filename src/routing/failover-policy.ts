import { APIUserAbortError } from 'openai';
import { DEFAULTS } from '../options/defaults.js';
import type { FailoverOptions } from '../options/types.js';
import { isConnectionError, statusOf } from './classify.js';
import { isStatefulRequest } from './stateful.js';
import type { FailoverPolicy } from '../options/contracts.js';

/** The default failover policy: 502/503/504 and connection failures switch endpoints. */
export function createFailoverPolicy(options: FailoverOptions = {}): FailoverPolicy {
  const statuses = new Set(options.statuses ?? DEFAULTS.failover.statuses);
  const connectionErrors = options.connectionErrors ?? DEFAULTS.failover.connectionErrors;
  const stateful = options.stateful ?? 'stay';
  return {
    shouldFailover({ error }) {
      if (error instanceof APIUserAbortError) return false;
      if (isConnectionError(error)) return connectionErrors;
      const status = statusOf(error);
      return status !== undefined && statuses.has(status);
    },
    staysOnEndpoint(request) {
      if (typeof stateful === 'function') return stateful(request);
      return stateful === 'stay' && isStatefulRequest(request);
    },
  };
}
