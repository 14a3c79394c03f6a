import { OpenAI, type ClientOptions } from 'openai';
import { OFFICIAL_BASE_URL } from '../options/defaults.js';
import type { FallbackInput, FallbackOptions, ModelMap, ResilientOptions } from '../options/types.js';
import { checkModels, checkNumber, checkURL, fail } from '../options/validate.js';
import type { SecretSet } from '../observe/redact.js';
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
  'affinity',
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
  const usesOtherAuth = Boolean(
    primaryOptions.provider || primaryOptions.adminAPIKey || (primaryOptions as { workloadIdentity?: unknown }).workloadIdentity,
  );
  if (primaryOptions.apiKey === undefined && !usesOtherAuth) {
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
  return primaryOptions;
}

/** openai 7's `dataResidency` picks the base URL itself: a `baseURL` next to it is an error. */
function hasResidency(options: ClientOptions): boolean {
  return (options as { dataResidency?: unknown }).dataResidency != null;
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
export function endpointSpecs(options: ResilientOptions, primaryOptions: ClientOptions, secrets: SecretSet): EndpointSpec[] {
  const primaryName = options.name ?? 'primary';
  if (typeof primaryName !== 'string' || !primaryName) fail('name', 'a non-empty string', primaryName);
  const given = options.client;
  if (given) collectClientSecrets(given, secrets);
  const endpoints: EndpointSpec[] = [
    given ?
      { name: primaryName, client: given, models: options.models, timeout: ownTimeout(given) }
    : { name: primaryName, client: built(primaryOptions, secrets), models: options.models, timeout: options.timeout },
  ];
  // A given client's key (an Azure key, say) never goes to the official API by default.
  const fallbackKey = env('OPENAI_API_KEY') ?? (given ? undefined : primaryOptions.apiKey);
  // In a browser, fallbacks built from options are allowed where the primary was.
  const browser = options.dangerouslyAllowBrowser === true;
  const fallbacks: readonly FallbackInput[] =
    options.fallback === undefined ? [{}]
    : Array.isArray(options.fallback) ? options.fallback
    : [options.fallback as FallbackInput];
  fallbacks.forEach((entry, i) => {
    const option = Array.isArray(options.fallback) ? `fallback[${i}]` : 'fallback';
    const defaultName = i === 0 ? 'fallback' : `fallback-${i + 1}`;
    const spec = toEndpoint(entry, option, defaultName, fallbackKey, secrets, browser);
    if (endpoints.some((e) => e.name === spec.name)) fail(`${option}.name`, 'a name no other endpoint has', spec.name);
    endpoints.push(spec);
  });
  return endpoints;
}

function toEndpoint(
  entry: unknown,
  option: string,
  defaultName: string,
  fallbackKey: ClientOptions['apiKey'],
  secrets: SecretSet,
  browser: boolean,
): EndpointSpec {
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
  if (resolved.baseURL === undefined && !resolved.provider && !hasResidency(resolved)) resolved.baseURL = OFFICIAL_BASE_URL;
  if (browser && resolved.dangerouslyAllowBrowser === undefined) resolved.dangerouslyAllowBrowser = true;
  if (resolved.apiKey === undefined && !resolved.provider && !resolved.adminAPIKey) resolved.apiKey = fallbackKey;
  return { name, client: built(resolved, secrets), models, timeout: clientOptions.timeout };
}

/** An instance's own `timeout`, unless it is the SDK's 10-minute default (then it has none). */
function ownTimeout(client: OpenAI): number | undefined {
  return client.timeout === SDK_DEFAULT_TIMEOUT ? undefined : client.timeout;
}

/** An inner client of ours: it learns what it sends, and what it holds is known from the start. */
function built(options: ClientOptions, secrets: SecretSet): OpenAI {
  const client = new OpenAI(learningOptions(options, secrets));
  collectClientSecrets(client, secrets);
  return client;
}
