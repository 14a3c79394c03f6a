type HeaderValue = string | null | undefined;
type HeaderRecord = Record<string, HeaderValue>;

/** The SDK's own merged form (`buildHeaders()`), which its resources pass to `request()`. */
interface NullableHeaders {
  values: Headers;
  nulls: Set<string>;
}

/** A `Headers`, or another implementation of it (by its `forEach`). */
function isHeaders(headers: unknown): headers is Headers {
  return typeof headers === 'object' && headers !== null && !Array.isArray(headers) && typeof (headers as Headers).forEach === 'function';
}

function isNullableHeaders(headers: object): headers is NullableHeaders {
  const { values, nulls } = headers as Partial<NullableHeaders>;
  return isHeaders(values) && nulls instanceof Set;
}

/** Appends `value` to what this source already set for the header, as `Headers.append()`; `null` removes it. */
function add(seen: HeaderRecord, name: unknown, value: string | null | undefined): void {
  if (value === undefined) return;
  const key = String(name).toLowerCase();
  const earlier = seen[key];
  seen[key] =
    value === null ? null
    : typeof earlier === 'string' ? `${earlier}, ${value}`
    : value;
}

/**
 * Flattens the header shapes the SDK accepts (a `Headers`, entry arrays, records whose values may
 * be arrays, and the SDK's own merged form) into one record, with the SDK's rules: a header a
 * source names replaces the earlier one, repeated in one source it appends, `null` removes it and
 * `undefined` leaves it as it was.
 */
function toRecord(headers: unknown, into: HeaderRecord): HeaderRecord {
  if (!headers || typeof headers !== 'object') return into;
  const seen: HeaderRecord = {};
  if (isHeaders(headers)) {
    headers.forEach((value, name) => add(seen, name, value));
  } else if (isNullableHeaders(headers)) {
    headers.values.forEach((value, name) => add(seen, name, value));
    for (const name of headers.nulls) add(seen, name, null);
  } else if (Array.isArray(headers)) {
    for (const [name, value] of headers as [unknown, HeaderValue][]) add(seen, name, value);
  } else {
    for (const [name, value] of Object.entries(headers)) {
      for (const one of Array.isArray(value) ? (value as HeaderValue[]) : [value as HeaderValue]) add(seen, name, one);
    }
  }
  return Object.assign(into, seen);
}

/**
 * `override` wins per header; a `null` in it removes the header, including the SDK's own, and an
 * `undefined` leaves `base`'s, as in the SDK.
 */
export function mergeHeaders(base: unknown, override: unknown): HeaderRecord {
  return toRecord(override, toRecord(base, {}));
}
