// Every credential an endpoint holds or can derive goes into the client's SecretSet, so that no
// text the library produces (status, logs, its own messages) can repeat one, even when a proxy's
// error page echoes the request it got.
import type { ClientOptions, OpenAI } from 'openai';
import { kKeepAnswer, type KeepAnswer } from '../streams/kept-answers.js';
import { SECRET_HEADER, SECRET_PARAM, type SecretSet } from '../observe/redact.js';

type Fetch = NonNullable<ClientOptions['fetch']>;

/**
 * Options for an inner client that we build: whatever it sends is learned before it is sent.
 * One place sees every credential on the wire: the result of an `apiKey` function, a
 * workload-identity token, a provider's signature, the caller's per-request and `withOptions()`
 * headers. The key function and the subject-token provider are wrapped too, because a failed
 * token exchange can echo what it was given before any API request is sent.
 */
export function learningOptions(options: ClientOptions, secrets: SecretSet): ClientOptions {
  const own = options.fetch;
  const send: Fetch = (url, init) => {
    learnRequest(url, init, secrets);
    const sent = own ? own(url, init) : fetch(url, init);
    const keep = (init as { [kKeepAnswer]?: KeepAnswer } | undefined)?.[kKeepAnswer];
    // Only calls through `client.fetch` ask for it; a copy, because the SDK reads the original.
    return keep ? sent.then((response) => (response.ok || keep(response.clone()), response)) : sent;
  };
  const identity = (options as { workloadIdentity?: { provider?: { getToken?: unknown } } }).workloadIdentity;
  // openai 7's X.509 workload identity refuses a custom fetch: such a client keeps its own, and
  // what it sends is caught by the token patterns and the subject-token provider below.
  const learned: ClientOptions = identity ? { ...options } : { ...options, fetch: send };
  const { apiKey } = options;
  if (typeof apiKey === 'function') {
    learned.apiKey = async () => {
      const key = await apiKey();
      secrets.learn(key);
      return key;
    };
  }
  const getToken = identity?.provider?.getToken;
  if (typeof getToken === 'function') {
    const provider = identity!.provider!;
    const wrapped = async () => {
      const token: unknown = await getToken.call(provider);
      secrets.learn(token);
      return token;
    };
    Object.assign(learned, { workloadIdentity: { ...identity, provider: { ...provider, getToken: wrapped } } });
  }
  return learned;
}

/**
 * What a built client holds: its key (and the one its key function or Azure AD token provider
 * returned last, read again at each scrub, since the SDK keeps it in `apiKey`), admin key, webhook
 * secret, credential headers and query values (including those OPENAI_CUSTOM_HEADERS added), and
 * the userinfo and credential query values of its base URL. Works for an instance the user built,
 * which we do not modify.
 */
export function collectClientSecrets(client: OpenAI, secrets: SecretSet): void {
  secrets.add(client.apiKey);
  secrets.add(client.adminAPIKey);
  secrets.add((client as { webhookSecret?: unknown }).webhookSecret);
  secrets.watch(() => client.apiKey);
  const options = (client as unknown as { _options?: ClientOptions })._options ?? {};
  if (typeof options.apiKey === 'string') secrets.add(options.apiKey);
  forEachHeader(options.defaultHeaders, (name, value) => {
    for (const secret of headerSecrets(name, value)) secrets.add(secret);
  });
  for (const [name, value] of Object.entries(options.defaultQuery ?? {})) {
    if (SECRET_PARAM.test(name)) for (const secret of encodings(value)) secrets.add(secret);
  }
  for (const secret of urlSecrets(client.baseURL)) secrets.add(secret);
}

function learnRequest(url: unknown, init: RequestInit | undefined, secrets: SecretSet): void {
  const href =
    typeof url === 'string' ? url
    : url instanceof URL ? url.href
    : (url as Request | undefined)?.url;
  // Most requests carry no query credential and no userinfo: skip parsing them.
  if (href && (href.includes('?') || href.includes('@'))) for (const secret of urlSecrets(href)) secrets.learn(secret);
  forEachHeader(init?.headers, (name, value) => {
    if (!isSecretHeader(name)) return;
    // A cookie splits by its name; every other credential header the same way.
    let parts = name === 'cookie' ? undefined : expanded.get(value);
    if (!parts) {
      parts = headerSecrets(name, value);
      if (expanded.size >= MAX_CACHED) expanded.delete(expanded.keys().next().value!);
      expanded.set(value, parts);
    }
    for (const secret of parts) secrets.learn(secret);
  });
}

// This runs on every request, and the same header names and credential values come back on each:
// what a name means and what a value splits into are worked out once (bounded, oldest out).
const MAX_CACHED = 256;
const secretNames = new Map<string, boolean>();
const expanded = new Map<string, string[]>();

function isSecretHeader(name: string): boolean {
  let secret = secretNames.get(name);
  if (secret === undefined) {
    secret = SECRET_HEADER.test(name);
    if (secretNames.size >= MAX_CACHED) secretNames.delete(secretNames.keys().next().value!);
    secretNames.set(name, secret);
  }
  return secret;
}

/** A credential header's value, and the parts a page may echo alone. */
function headerSecrets(name: string, value: string): string[] {
  if (!SECRET_HEADER.test(name)) return [];
  const out = [value];
  const scheme = /^\s*([A-Za-z0-9-]+)\s+(\S.*)$/.exec(value);
  if (scheme) {
    out.push(scheme[2]!);
    if (scheme[1]!.toLowerCase() === 'basic') out.push(...basicParts(scheme[2]!));
  }
  if (name.toLowerCase() === 'cookie') {
    for (const pair of value.split(';')) out.push(pair.slice(pair.indexOf('=') + 1).trim());
  }
  return out;
}

// atob/btoa rather than Buffer: this runs on every runtime openai supports, browsers included.
function basicParts(encoded: string): string[] {
  let decoded: string;
  try {
    decoded = new TextDecoder().decode(Uint8Array.from(atob(encoded), (c) => c.charCodeAt(0)));
  } catch {
    return [];
  }
  const colon = decoded.indexOf(':');
  return colon < 0 ? [] : [decoded, decoded.slice(colon + 1)];
}

/** Userinfo (raw, decoded, and as the Basic credential a client may turn it into) and credential query values. */
function urlSecrets(href: string): string[] {
  let url: URL;
  try {
    url = new URL(href);
  } catch {
    return [];
  }
  const out: string[] = [];
  if (url.username || url.password) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    out.push(url.username, url.password, user, password, `${user}:${password}`, base64(`${user}:${password}`));
  }
  for (const [name, value] of url.searchParams) if (SECRET_PARAM.test(name)) out.push(...encodings(value));
  return out;
}

function base64(text: string): string {
  const bytes = new TextEncoder().encode(text);
  return btoa(String.fromCharCode(...bytes));
}

/** A value as sent (percent-encoded) and as a server decodes it. */
function encodings(value: unknown): string[] {
  return typeof value === 'string' ? [value, encodeURIComponent(value)] : [];
}

/** Every form of `HeadersLike` the SDK accepts: Headers, tuples, records, its own NullableHeaders. */
function forEachHeader(headers: unknown, visit: (name: string, value: string) => void): void {
  if (!headers || typeof headers !== 'object') return;
  if (headers instanceof Headers) {
    headers.forEach((value, name) => visit(name, value));
  } else if (Array.isArray(headers)) {
    for (const entry of headers as unknown[]) {
      // A list of HeadersLike (the SDK merges them) or a [name, value] tuple.
      if (Array.isArray(entry) && typeof entry[0] === 'string') {
        if (typeof entry[1] === 'string') visit(entry[0], entry[1]);
      } else {
        forEachHeader(entry, visit);
      }
    }
  } else if ((headers as { values?: unknown }).values instanceof Headers) {
    forEachHeader((headers as { values: Headers }).values, visit);
  } else {
    for (const [name, value] of Object.entries(headers)) {
      if (typeof value === 'string') visit(name, value);
      else if (Array.isArray(value)) for (const item of value as unknown[]) if (typeof item === 'string') visit(name, item);
    }
  }
}
