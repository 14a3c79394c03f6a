// Query parameters that commonly carry credentials in gateway URLs.
const SECRET_PARAM = /^(api[-_]?key|key|token|access[-_]?token|auth|authorization|sig|signature|secret|password|code)$/i;

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

/** Secrets known to the client; any text we emit is passed through `scrub` against them. */
export class SecretSet {
  readonly #values = new Set<string>();

  add(value: unknown): void {
    // Very short strings would redact ordinary words; real keys are long.
    if (typeof value === 'string' && value.length >= 6) this.#values.add(value);
  }

  scrub(text: string): string {
    let out = text;
    for (const secret of this.#values) {
      if (out.includes(secret)) out = out.split(secret).join('[redacted]');
    }
    // Bearer tokens and sk- style keys we were never told about (e.g. echoed by a proxy).
    return out.replace(/\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/g, '$1[redacted]').replace(/\bsk-[A-Za-z0-9_-]{8,}/g, 'sk-[redacted]');
  }
}

/** A one-line description of an error for logs and status, with secrets removed. */
export function describeError(error: unknown, secrets: SecretSet): string {
  if (error instanceof Error) {
    const status = (error as { status?: unknown }).status;
    const prefix = typeof status === 'number' ? `${status} ` : '';
    const name = error.constructor?.name && error.constructor.name !== 'Error' ? error.constructor.name : error.name;
    const message = error.message.replace(/\s+/g, ' ').slice(0, 300);
    return secrets.scrub(`${prefix}${name}: ${message}`);
  }
  return secrets.scrub(String(error).slice(0, 300));
}
