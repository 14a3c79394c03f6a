export { ResilientOpenAI, ResilientOpenAI as default } from './client.js';
export { getAttemptErrors, type AttemptFailure } from './attempts.js';
export { IncompleteStreamError, isIncompleteStreamError } from './errors.js';
export { withFailover, type FailoverOverride } from './request-copy.js';
export { isStatefulRequest, type RequestInfo } from './stateful.js';
export type { BreakerOptions, BreakerState } from './breaker.js';
export type { Coordination, CoordinatedEndpoint, CoordinationStatus, LocalChange, RemoteChange } from './coordination.js';
export {
  createRedisCoordination,
  type RedisCoordinationOptions,
  type RedisClientLike,
  type NodeRedisClientLike,
  type IORedisClientLike,
} from './redis-coordination.js';
export {
  createFailoverPolicy,
  createRetryPolicy,
  type AttemptContext,
  type FailoverOptions,
  type FailoverPolicy,
  type RetryOptions,
  type RetryPolicy,
} from './policy.js';
export type {
  FallbackInput,
  FallbackOptions,
  HealthCheckOptions,
  ModelMap,
  NamedClient,
  ResilientOptions,
  TimeoutOptions,
} from './options.js';
export type {
  BreakerEvent,
  EventName,
  HealthCheckEvent,
  RecoveredEvent,
  RemoteEvent,
  ResilientEvents,
  RetryEvent,
  SwitchReason,
  SwitchedEvent,
} from './events.js';
export type { EndpointStatus, ResilientStatus } from './status.js';
