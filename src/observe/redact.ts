// Query parameters that commonly carry credentials in gateway URLs.
export const SECRET_PARAM =
  /^(api[-_]?key|key|token|access[-_]?token|id[-_]?token|auth|authorization|sig|signature|secret|client[-_]?secret|password|code|subscription[-_]?key)$/i;

// Headers that carry credentials. Not `idempotency-key`: it is no secret, and a new one per
// request would evict the keys we learned (see SecretSet.learn).
export const SECRET_HEADER =
  /^(authorization|proxy-authorization|cookie|(x-)?api[-_]?key|[a-z0-9-]*-(api[-_]?key|token|secret|password|signature|credentials?)|x-auth[a-z0-9-]*|ocp-apim-subscription-key|x-functions-key)$/i;

/** A URL safe to show: userinfo and credential-like query values replaced by `***`. */
export function redactURL(url: string): string {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return '[invalid URL]';
  }
  if (parsed.username) parsed.username = '***';
  if (parsed.password) parsed.password = '***';
  for (const name of [...parsed.searchParams.keys()]) {
    if (SECRET_PARAM.test(name)) parsed.searchParams.set(name, '***');
  }
  return parsed.toString();
}

// Keys seen on the wire (key functions, token providers, per-call headers) can rotate forever:
// keep the most recent ones only, so the set and the cost of scrub() stay bounded.
const MAX_LEARNED = 256;

/** Secrets known to the client; any text we emit is passed through `scrub` against them. */
export class SecretSet {
  /** Given at construction: kept for the client's lifetime. */
  readonly #known = new Set<string>();
  /** Seen since, newest last (a Map keeps insertion order). */
  readonly #learned = new Map<string, true>();
  /** Read again at each scrub: credentials an SDK client replaces in place (its `apiKey`). */
  readonly #live: (() => unknown)[] = [];
  /** Longest first, so a secret that contains another one is replaced whole. */
  #sorted: string[] | null = null;

  add(value: unknown): void {
    if (usable(value) && !this.#known.has(value)) {
      this.#known.add(value);
      this.#learned.delete(value);
      this.#sorted = null;
    }
  }

  /** Runs on every request that sends a credential: a few Map operations when it is known already. */
  learn(value: unknown): void {
    if (!usable(value) || this.#known.has(value)) return;
    const seen = this.#learned.delete(value);
    this.#learned.set(value, true);
    if (seen) return;
    if (this.#learned.size > MAX_LEARNED) this.#learned.delete(this.#learned.keys().next().value!);
    this.#sorted = null;
  }

  watch(read: () => unknown): void {
    this.#live.push(read);
  }

  // Runs only on failures (status, logs), so it may do real work.
  scrub(text: string): string {
    for (const read of this.#live) this.learn(read());
    this.#sorted ??= [...this.#known, ...this.#learned.keys()].sort((a, b) => b.length - a.length);
    let out = text;
    for (const secret of this.#sorted) {
      if (out.includes(secret)) out = out.split(secret).join('[redacted]');
    }
    // Credentials we were never told about (e.g. echoed by a proxy): tokens after an auth scheme,
    // sk- style keys, and values after a credential header's name (`x-api-key: …`, `api-key=…`).
    return out
      .replace(/\b((?:Bearer|Basic|Token)\s+)[A-Za-z0-9._~+/=-]{8,}/g, '$1[redacted]')
      .replace(/\bsk-[A-Za-z0-9_-]{8,}/g, 'sk-[redacted]')
      .replace(
        /\b((?:proxy-)?authorization|(?:x-)?api[-_]?key|cookie|[a-z-]+-token)(["']?\s*[:=]\s*["']?)(?!\[redacted\]|(?:Bearer|Basic|Token)\s)[^\s"'<>&]{6,}/gi,
        '$1$2[redacted]',
      );
  }
}

// Very short strings would redact ordinary words; real keys are long.
function usable(value: unknown): value is string {
  return typeof value === 'string' && value.length >= 6;
}

/**
 * A one-line description of an error for logs and status, with secrets removed. Scrubbed before
 * it is cut to length: a cut through a secret would leave its first characters unredacted.
 */
export function describeError(error: unknown, secrets: SecretSet): string {
  let text: string;
  if (error instanceof Error) {
    const status = (error as { status?: unknown }).status;
    const prefix = typeof status === 'number' ? `${status} ` : '';
    const name = error.constructor?.name && error.constructor.name !== 'Error' ? error.constructor.name : error.name;
    text = `${prefix}${name}: ${error.message}`;
  } else {
    text = String(error);
  }
  return secrets.scrub(text.slice(0, 10_000).replace(/\s+/g, ' ')).slice(0, 300);
}
