// The public API, and nothing else: every export below is documented and type-tested.
export { ResilientOpenAI, ResilientOpenAI as default } from './client.js';
export { getAttemptErrors, type AttemptFailure } from './call/attempt-records.js';
export { getServedBy } from './call/served-by.js';
export { withFailover, type FailoverOverride } from './call/failover-override.js';
export { IncompleteStreamError, isIncompleteStreamError, StreamIdleTimeoutError } from './streams/errors.js';
export { isStatefulRequest } from './routing/stateful.js';
export { createRetryPolicy } from './routing/retry-policy.js';
export { createFailoverPolicy } from './routing/failover-policy.js';
export type { BreakerState } from './routing/breaker.js';
export type {
  AttemptContext,
  Coordination,
  CoordinatedEndpoint,
  CoordinationStatus,
  FoundHome,
  EndpointHold,
  FailoverPolicy,
  LocalChange,
  RemoteChange,
  RequestInfo,
  RetryPolicy,
} from './options/contracts.js';
export {
  createRedisCoordination,
  type RedisCoordinationOptions,
  type RedisClientLike,
  type NodeRedisClientLike,
  type IORedisClientLike,
} from './coordination/redis/create.js';
export type {
  AffinityOptions,
  BreakerOptions,
  FailoverOptions,
  FallbackInput,
  FallbackOptions,
  HealthCheckOptions,
  ModelMap,
  NamedClient,
  RateLimitOptions,
  ResumeOptions,
  ResilientOptions,
  RetryOptions,
  TelemetryOptions,
  TimeoutOptions,
  TracerProviderLike,
  MeterProviderLike,
} from './options/types.js';
export type {
  BreakerEvent,
  EventName,
  HealthCheckEvent,
  RecoveredEvent,
  RemoteEvent,
  ResumedEvent,
  ResilientEvents,
  RetryEvent,
  SwitchReason,
  SwitchedEvent,
} from './observe/events.js';
export type { AffinityStatus } from './affinity/homes.js';
export type { EndpointStatus, ResilientStatus } from './status.js';
