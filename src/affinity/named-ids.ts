// The ids a request names: in its path, its cursor and its body. Misses cost one map lookup each,
// so the rules collect generously; what decides is whether an id was seen created.
import { resourceOf } from '../routing/stateful.js';

/** Body keys whose values are ids (or lists of ids) of stored objects. */
const ID_KEYS = new Set([
  'previous_response_id',
  'conversation',
  'conversation_id',
  'file_id',
  'file_ids',
  'input_file_id',
  'training_file',
  'validation_file',
  'vector_store_id',
  'vector_store_ids',
  'container',
  'container_id',
  'assistant_id',
  'thread_id',
  'upload_id',
  'video_id',
  'voice_id',
  'session_id',
]);

/** Arrays whose elements' own `id` names a stored item (Responses input, conversation items). */
const ITEM_ARRAYS = new Set(['input', 'items']);

/** Large values that never hold ids: schemas, free text, metadata. */
const SKIP = new Set([
  'response_format',
  'text',
  'metadata',
  'parameters',
  'schema',
  'json_schema',
  'instructions',
  'prediction',
  'logit_bias',
]);

const MAX_DEPTH = 6;
/** Longer strings are not ids (a data URL, a document): never looked up. */
const MAX_ID_LENGTH = 200;

function add(out: string[], value: unknown): void {
  if (typeof value === 'string') {
    if (value.length > 0 && value.length <= MAX_ID_LENGTH) out.push(value);
  } else if (Array.isArray(value)) {
    for (const v of value) if (typeof v === 'string' && v.length > 0 && v.length <= MAX_ID_LENGTH) out.push(v);
  } else if (typeof value === 'object' && value !== null) {
    // `conversation: { id }`, `container: { type, file_ids }`.
    const o = value as Record<string, unknown>;
    if (typeof o.id === 'string') add(out, o.id);
    if (Array.isArray(o.file_ids)) add(out, o.file_ids);
  }
}

function walk(value: unknown, depth: number, out: string[], items: boolean): void {
  if (depth > MAX_DEPTH || typeof value !== 'object' || value === null) return;
  if (Array.isArray(value)) {
    for (const element of value) {
      if (items && typeof element === 'object' && element !== null) add(out, (element as { id?: unknown }).id);
      walk(element, depth + 1, out, false);
    }
    return;
  }
  if (value instanceof FormData) {
    for (const key of ID_KEYS) {
      const v = value.get(key);
      if (typeof v === 'string') add(out, v);
    }
    return;
  }
  for (const key in value) {
    const v = (value as Record<string, unknown>)[key];
    if (ID_KEYS.has(key)) add(out, v);
    else if (typeof v === 'object' && v !== null && !SKIP.has(key)) walk(v, depth + 1, out, ITEM_ARRAYS.has(key));
  }
}

/** Segments after the resource: `/vector_stores/vs_1/files/file_2` names `vs_1`, `files` and `file_2`. */
function pathIds(path: string, out: string[]): void {
  const entry = resourceOf(path);
  let rest: string;
  if (entry) rest = entry.rest;
  else {
    // A custom path: everything after its first segment.
    const q = path.indexOf('?');
    const parts = (q === -1 ? path : path.slice(0, q)).split('/').filter(Boolean);
    if (parts[0] === 'v1') parts.shift();
    rest = parts.slice(1).join('/');
  }
  if (!rest) return;
  for (const part of rest.split('/')) if (part && part.length <= MAX_ID_LENGTH) out.push(decodeSegment(part));
}

function decodeSegment(part: string): string {
  if (!part.includes('%')) return part;
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

export interface NamedRequest {
  readonly path: string;
  readonly query?: unknown;
  readonly body?: unknown;
}

/** Every id the request names, path first (the object it addresses), then its cursor, then its body. */
export function namedIds({ path, query, body }: NamedRequest): string[] {
  const out: string[] = [];
  pathIds(path, out);
  if (typeof query === 'object' && query !== null) {
    const q = query as Record<string, unknown>;
    add(out, q.after);
    add(out, q.before);
  }
  walk(body, 0, out, false);
  return out;
}
