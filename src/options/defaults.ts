// Every default in one object, merged into the user's options in one place (setup/normalize.ts)
// and documented next to each option in options/types.ts.
export const DEFAULTS = {
  /** The default retry policy: the SDK's own backoff and Retry-After rules. */
  retry: { initialDelayMs: 500, maxDelayMs: 8000, factor: 2, jitter: 0.25, maxRetryAfterMs: 60_000, connectionErrors: true },
  /** The default failover policy: gateway errors and connection failures switch at once. */
  failover: { statuses: [502, 503, 504], connectionErrors: true },
  /** Per-endpoint circuit breakers: one failover-class failure opens, two successes close. */
  breaker: {
    failureThreshold: 1,
    failureRate: 0.5,
    minimumCalls: 10,
    windowMs: 60_000,
    cooldownMs: 30_000,
    halfOpenMaxCalls: 1,
    successThreshold: 2,
  },
  /** The health timer of the primary: every 5 minutes, as the original setup did. */
  healthCheck: { intervalMs: 300_000, timeoutMs: 10_000 },
  /** 429s that fail over at once: a quota (held out for `quotaCooldownMs`) or a wait longer than this. */
  rateLimits: { longWaitMs: 5000, quotaCooldownMs: 900_000 },
  /** Ids of stored state and the endpoint that created them: how many, for how long (30 days). */
  affinity: { maxIds: 100_000, ttlMs: 2_592_000_000 },
  /** Bounds on hung upstreams. */
  timeouts: { requestMs: 120_000, streamHeadersMs: 20_000, streamIdleMs: 120_000, deadlineMs: 300_000 },
  /** Background Responses streams cut after output: continued up to 3 times, 500 ms apart at first. */
  resume: { attempts: 3, delayMs: 500 },
} as const;

/** A breaker's settings with every default filled in. */
export type BreakerConfig = { -readonly [K in keyof typeof DEFAULTS.breaker]: number };

/** The official API: where an options fallback goes unless it names another `baseURL`. */
export const OFFICIAL_BASE_URL = 'https://api.openai.com/v1';

/** `resume` with every default filled in; `false` when it is turned off. */
export type NormalizedResume = { -readonly [K in keyof typeof DEFAULTS.resume]: number } | false;

/** `timeouts` with every default filled in. */
export type NormalizedTimeouts = { -readonly [K in keyof typeof DEFAULTS.timeouts]: number };

/** `affinity` with every default filled in; `false` when it is turned off. */
export type NormalizedAffinity = { -readonly [K in keyof typeof DEFAULTS.affinity]: number } | false;

/** `rateLimits` with every default filled in. */
export type NormalizedRateLimits = { -readonly [K in keyof typeof DEFAULTS.rateLimits]: number };
