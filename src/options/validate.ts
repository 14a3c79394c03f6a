// Option checks shared by the normalizers: each names the option and the value it got, at
// construction time, so a typo fails loudly instead of changing behaviour.

export function fail(option: string, expected: string, value: unknown): never {
  throw new TypeError(`resilient-openai: expected \`${option}\` to be ${expected}, got ${show(value)}`);
}

function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  if (typeof value === 'function') return 'a function';
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  if (typeof value === 'object') return `an object (${Object.keys(value).join(', ') || 'empty'})`;
  if (typeof value === 'symbol') return 'a symbol';
  return `${value as number | boolean | bigint | undefined}`;
}

export function checkNumber(option: string, value: unknown, min: number, max = Number.POSITIVE_INFINITY, integer = true): void {
  if (value === undefined) return;
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
  if (!ok || (integer && !Number.isInteger(value))) {
    fail(
      option,
      `${integer ? 'an integer' : 'a number'} ${max === Number.POSITIVE_INFINITY ? `>= ${min}` : `from ${min} to ${max}`}`,
      value,
    );
  }
}

export function checkURL(option: string, value: unknown): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'string') fail(option, 'a URL string', value);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    // The value may hold a token; show only that it is malformed.
    throw new TypeError(`resilient-openai: expected \`${option}\` to be an absolute http(s) URL, got a malformed URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') fail(option, 'an http(s) URL', url.protocol);
}

export function checkModels(option: string, value: unknown): void {
  if (value === undefined || typeof value === 'function') return;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(option, 'a map of model names or a function', value);
  for (const [from, to] of Object.entries(value)) {
    if (typeof to !== 'string' || !to) fail(`${option}[${JSON.stringify(from)}]`, 'a non-empty model name', to);
  }
}

export function checkStatuses(option: string, value: unknown): void {
  if (!Array.isArray(value)) fail(option, 'an array of HTTP status codes', value);
  for (const status of value) {
    if (!Number.isInteger(status) || status < 100 || status > 599) fail(`${option}[]`, 'an HTTP status code (100-599)', status);
  }
}

/** Drops keys set to undefined, so that spreading over defaults keeps the defaults. */
export function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}
