export { ResilientOpenAI, ResilientOpenAI as default } from './client.js';
export { getAttemptErrors, type AttemptFailure } from './attempts.js';
export {
  createFailoverPolicy,
  createRetryPolicy,
  type AttemptContext,
  type FailoverOptions,
  type FailoverPolicy,
  type RetryOptions,
  type RetryPolicy,
} from './policy.js';
export type { FallbackInput, FallbackOptions, HealthCheckOptions, ResilientOptions } from './options.js';
export type {
  EventName,
  HealthCheckEvent,
  RecoveredEvent,
  ResilientEvents,
  RetryEvent,
  SwitchReason,
  SwitchedEvent,
} from './events.js';
export type { EndpointStatus, ResilientStatus } from './status.js';
