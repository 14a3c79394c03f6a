type HeaderRecord = Record<string, string | null | undefined>;

/** Flattens the header shapes the SDK accepts (Headers, entry arrays, records) into one record. */
function toRecord(headers: unknown, into: HeaderRecord): HeaderRecord {
  if (!headers) return into;
  if (typeof (headers as Headers).forEach === 'function' && !Array.isArray(headers)) {
    (headers as Headers).forEach((value, name) => {
      into[name.toLowerCase()] = value;
    });
  } else if (Array.isArray(headers)) {
    for (const [name, value] of headers as [string, string | null][]) into[String(name).toLowerCase()] = value;
  } else if (typeof headers === 'object') {
    for (const [name, value] of Object.entries(headers as HeaderRecord)) into[name.toLowerCase()] = value;
  }
  return into;
}

/** `override` wins per header; a `null` in it still removes the header, as in the SDK. */
export function mergeHeaders(base: unknown, override: unknown): HeaderRecord {
  return toRecord(override, toRecord(base, {}));
}
