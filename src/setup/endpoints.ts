import { OpenAI, type ClientOptions } from 'openai';
import { OFFICIAL_BASE_URL } from '../options/defaults.js';
import type { FallbackInput, FallbackOptions, ModelMap, ResilientOptions } from '../options/types.js';
import { checkModels, checkNumber, checkURL, fail } from '../options/validate.js';
import { redactURL, type SecretSet } from '../observe/redact.js';
import type { EndpointSpec } from '../routing/router.js';
import { collectClientSecrets, learningOptions } from './secrets.js';

/** Our own options: everything else in `ResilientOptions` is the primary's `ClientOptions`. */
const OWN_KEYS = [
  'name',
  'fallback',
  'retry',
  'failover',
  'healthCheck',
  'breaker',
  'timeouts',
  'rateLimits',
  'resume',
  'affinity',
  'telemetry',
  'models',
  'coordination',
  'client',
] as const;
/** The SDK's default `timeout`: an instance with it has no timeout of its own. */
const SDK_DEFAULT_TIMEOUT = 600_000;

function env(name: string): string | undefined {
  const value = typeof process !== 'undefined' ? process.env[name]?.trim() : undefined;
  return value ? value : undefined;
}

function isClient(value: unknown): value is OpenAI {
  return value instanceof OpenAI;
}

/**
 * The primary's client options: the user's, less our own keys, completed from the environment
 * (zero-config: the seed's variables describe the primary, a proxy; OpenAI's own the fallback).
 */
export function primaryClientOptions(options: ResilientOptions): ClientOptions {
  const primaryOptions: ClientOptions = { ...options };
  for (const key of OWN_KEYS) delete (primaryOptions as Record<string, unknown>)[key];
  if (options.client !== undefined) return facadeOptions(options.client, primaryOptions);
  let proxyFromEnv = false;
  if (primaryOptions.baseURL === undefined && !primaryOptions.provider && !hasResidency(primaryOptions)) {
    const fromEnv = env('OPENAI_BASE_URL_PRO');
    if (fromEnv) {
      checkURL('OPENAI_BASE_URL_PRO', fromEnv);
      primaryOptions.baseURL = fromEnv;
      proxyFromEnv = true;
    }
  }
  if (primaryOptions.apiKey === undefined && !hasOwnAuth(primaryOptions)) {
    // The official key never goes to a proxy that only the environment named.
    primaryOptions.apiKey = env('OPENAI_API_KEY_PRO') ?? (proxyFromEnv ? undefined : env('OPENAI_API_KEY'));
    if (!primaryOptions.apiKey) {
      throw new TypeError(
        proxyFromEnv ?
          'resilient-openai: OPENAI_BASE_URL_PRO is set but OPENAI_API_KEY_PRO is not: pass `apiKey` or set OPENAI_API_KEY_PRO'
        : 'resilient-openai: no API key for the primary endpoint: pass `apiKey`, or set OPENAI_API_KEY_PRO (or OPENAI_API_KEY)',
      );
    }
  }
  withoutAmbientKey(primaryOptions);
  return primaryOptions;
}

/** openai 7's `dataResidency` picks the base URL itself: a `baseURL` next to it is an error. */
function hasResidency(options: ClientOptions): boolean {
  return (options as { dataResidency?: unknown }).dataResidency != null;
}

/** Options (openai 7) that may not live next to some of ours; `ClientOptions` of openai 6 has none of them. */
interface LaterOptions {
  workloadIdentity?: { type?: unknown; provider?: unknown } | null;
  credential?: unknown;
}

/**
 * openai 7's X.509 auth: a `credential` from `fromX509()`, or an X.509 `workloadIdentity`. It
 * takes no key, no custom fetch, and only the SDK's own mTLS origin as its default base URL.
 */
function isX509(options: ClientOptions): boolean {
  const { workloadIdentity, credential } = options as LaterOptions;
  return credential != null || (workloadIdentity?.type === 'x509' && workloadIdentity.provider === undefined);
}

/**
 * Auth other than an API key: a key added next to it is an SDK error (`apiKey` and
 * `workloadIdentity`, or `credential`, are mutually exclusive; a `provider` owns the auth).
 */
function hasOwnAuth(options: ClientOptions): boolean {
  const { workloadIdentity, credential } = options as LaterOptions;
  return Boolean(options.provider || options.adminAPIKey || workloadIdentity || credential);
}

/**
 * A workload identity takes no key, but the SDK reads OPENAI_API_KEY for a missing one (here the
 * fallback's key, by our convention) and then refuses the pair: `null` keeps the environment out.
 */
function withoutAmbientKey(options: ClientOptions): void {
  if (options.apiKey === undefined && (options as LaterOptions).workloadIdentity) options.apiKey = null;
}

/**
 * With a ready client as the primary, `ResilientOpenAI` itself (an `OpenAI`, which sends nothing)
 * mirrors that client's URL and key. Connection options next to `client` would be silently
 * ignored, so they are an error; only `maxRetries` (attempts per call) belongs to us.
 */
function facadeOptions(client: unknown, rest: ClientOptions): ClientOptions {
  if (!isClient(client)) fail('client', 'an OpenAI or AzureOpenAI instance', client);
  for (const [key, value] of Object.entries(rest)) {
    if (key === 'maxRetries' || value === undefined) continue;
    throw new TypeError(
      `resilient-openai: \`client\` and \`${key}\` cannot be combined: the primary is the client you pass, so set \`${key}\` on that client`,
    );
  }
  checkNumber('maxRetries', rest.maxRetries, 0, 99);
  return {
    apiKey: typeof client.apiKey === 'string' && client.apiKey ? client.apiKey : 'resilient-openai:unused',
    baseURL: client.baseURL,
    maxRetries: rest.maxRetries ?? client.maxRetries,
    // The client given was allowed to exist here, so its mirror is too (it sends nothing).
    dangerouslyAllowBrowser: true,
  };
}

/**
 * The endpoints in failover order; `secrets` collects every credential they hold, and learns
 * those the clients we build send later (see setup/secrets.ts).
 */
export function endpointSpecs(
  options: ResilientOptions,
  primaryOptions: ClientOptions,
  secrets: SecretSet,
  requestMs: number,
): EndpointSpec[] {
  const primaryName = options.name ?? 'primary';
  if (typeof primaryName !== 'string' || !primaryName) fail('name', 'a non-empty string', primaryName);
  const given = options.client;
  if (given) collectClientSecrets(given, secrets);
  const endpoints: EndpointSpec[] = [
    given ?
      { name: primaryName, client: given, models: options.models, timeout: ownTimeout(given) }
    : {
        name: primaryName,
        client: built(primaryOptions, secrets, requestMs),
        models: options.models,
        timeout: options.timeout,
      },
  ];
  const context: FallbackContext = {
    // A given client's key (an Azure key, say) never goes to the official API by default.
    fallbackKey: env('OPENAI_API_KEY') ?? (given ? undefined : primaryOptions.apiKey),
    // In a browser, fallbacks built from options are allowed where the primary was.
    browser: options.dangerouslyAllowBrowser === true,
    givenPrimary: given !== undefined,
    defaultFallback: options.fallback === undefined,
    secrets,
    requestMs,
  };
  const fallbacks: readonly FallbackInput[] =
    options.fallback === undefined ? [{}]
    : Array.isArray(options.fallback) ? options.fallback
    : [options.fallback as FallbackInput];
  fallbacks.forEach((entry, i) => {
    const option = Array.isArray(options.fallback) ? `fallback[${i}]` : 'fallback';
    const defaultName = i === 0 ? 'fallback' : `fallback-${i + 1}`;
    const spec = toEndpoint(entry, option, defaultName, context);
    if (endpoints.some((e) => e.name === spec.name)) fail(`${option}.name`, 'a name no other endpoint has', spec.name);
    endpoints.push(spec);
  });
  return endpoints;
}

/** What every fallback is built with. */
interface FallbackContext {
  /** The key of a fallback given as options without one. */
  fallbackKey: ClientOptions['apiKey'];
  browser: boolean;
  /** The primary is a ready client (`client`): its key is nobody else's. */
  givenPrimary: boolean;
  /** No `fallback` was given: the one fallback is the official API. */
  defaultFallback: boolean;
  secrets: SecretSet;
  /** `timeouts.requestMs`: what a client we build waits by itself when no `timeout` was given. */
  requestMs: number;
}

function toEndpoint(entry: unknown, option: string, defaultName: string, context: FallbackContext): EndpointSpec {
  const { fallbackKey, browser, secrets } = context;
  if (isClient(entry)) {
    collectClientSecrets(entry, secrets);
    return { name: defaultName, client: entry, timeout: ownTimeout(entry) };
  }
  if (typeof entry !== 'object' || entry === null) fail(option, 'client options or an OpenAI instance', entry);
  if ('client' in entry) {
    const named = entry as { name?: unknown; client?: unknown; models?: unknown };
    if (!isClient(named.client)) fail(`${option}.client`, 'an OpenAI instance', named.client);
    if (typeof named.name !== 'string' || !named.name) fail(`${option}.name`, 'a non-empty string', named.name);
    checkModels(`${option}.models`, named.models);
    collectClientSecrets(named.client, secrets);
    return { name: named.name, client: named.client, models: named.models as ModelMap | undefined, timeout: ownTimeout(named.client) };
  }
  const { name = defaultName, models, ...clientOptions } = entry as FallbackOptions;
  if (typeof name !== 'string' || !name) fail(`${option}.name`, 'a non-empty string', name);
  checkURL(`${option}.baseURL`, clientOptions.baseURL);
  checkNumber(`${option}.timeout`, clientOptions.timeout, 1);
  checkModels(`${option}.models`, models);
  const resolved: ClientOptions = { ...clientOptions };
  if (resolved.baseURL === undefined && !resolved.provider && !hasResidency(resolved)) {
    // Never OPENAI_BASE_URL (the primary's proxy, maybe): the official API, or for X.509 auth
    // (null) the SDK's own mTLS origin, the only one it accepts.
    resolved.baseURL = isX509(resolved) ? null : OFFICIAL_BASE_URL;
  }
  if (browser && resolved.dangerouslyAllowBrowser === undefined) resolved.dangerouslyAllowBrowser = true;
  if (resolved.apiKey === undefined && !hasOwnAuth(resolved)) {
    // Without a key the SDK's own error would not say which endpoint lacks one.
    if (fallbackKey === undefined) throw missingFallbackKey(option, resolved.baseURL, context);
    resolved.apiKey = fallbackKey;
  }
  withoutAmbientKey(resolved);
  return { name, client: built(resolved, secrets, context.requestMs), models, timeout: clientOptions.timeout };
}

function missingFallbackKey(option: string, baseURL: string | null | undefined, context: FallbackContext): TypeError {
  const where = baseURL ? redactURL(baseURL) : 'its SDK default URL';
  const start =
    context.defaultFallback ?
      `no API key for the default fallback (${where}): set OPENAI_API_KEY, or pass \`fallback\` (\`fallback: []\` for none)`
    : `no API key for \`${option}\` (${where}): pass its \`apiKey\`, or set OPENAI_API_KEY`;
  const end = context.givenPrimary ? '. The key of `client` is never sent to another endpoint' : '';
  return new TypeError(`resilient-openai: ${start}${end}`);
}

/** An instance's own `timeout`, unless it is the SDK's 10-minute default (then it has none). */
function ownTimeout(client: OpenAI): number | undefined {
  return client.timeout === SDK_DEFAULT_TIMEOUT ? undefined : client.timeout;
}

/**
 * An inner client of ours: it learns what it sends, and what it holds is known from the start.
 * Its own `timeout` (`requestMs` unless the options give one) is the usual bound of an attempt on
 * it, so most attempts pass none (see call/attempt.ts).
 */
function built(options: ClientOptions, secrets: SecretSet, requestMs: number): OpenAI {
  const learned = learningOptions({ ...options, timeout: options.timeout ?? requestMs }, secrets);
  // openai 7's X.509 auth refuses a custom fetch: as with an X.509 workloadIdentity (see
  // learningOptions), a `credential` client keeps its own, and the token patterns catch what it sends.
  if ((options as LaterOptions).credential != null) {
    if (options.fetch === undefined) delete learned.fetch;
    else learned.fetch = options.fetch;
  }
  const client = new OpenAI(learned);
  collectClientSecrets(client, secrets);
  return client;
}
