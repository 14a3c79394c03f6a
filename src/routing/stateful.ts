import type { RequestInfo } from '../options/contracts.js';

// Resources whose objects live on one backend: creating, reading, listing or deleting them
// on another backend would split state or miss it.
const STATEFUL_ROOTS = new Set([
  'assistants',
  'batches',
  'chatkit',
  'containers',
  'conversations',
  'evals',
  'files',
  'fine_tuning',
  'organization',
  'realtime',
  'skills',
  'threads',
  'uploads',
  'vector_stores',
  'videos',
]);

function bodyField(body: unknown, name: string): unknown {
  if (body instanceof FormData) return body.get(name);
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

/**
 * True for calls that address or create server-side state. Everything else (chat completions,
 * completions, embeddings, images, audio, moderations, responses without stored state, model
 * listing, custom paths) is stateless and may fail over.
 */
export function isStatefulRequest({ method, path, body }: RequestInfo): boolean {
  // Called for every request: read the first two segments without splitting the path.
  let from = path.charCodeAt(0) === 47 ? 1 : 0;
  let to = segmentEnd(path, from);
  let root = path.slice(from, to);
  if (root === 'v1') {
    from = to + 1;
    to = segmentEnd(path, from);
    root = path.slice(from, to);
  }
  if (!root) return false;
  if (STATEFUL_ROOTS.has(root)) return true;
  const second = to < path.length && path.charCodeAt(to) === 47 ? path.slice(to + 1, segmentEnd(path, to + 1)) : '';
  const verb = method.toLowerCase();
  if (root === 'responses') {
    // `/responses/{id}…` addresses a stored response; a create may continue one.
    if (second) return true;
    return bodyField(body, 'previous_response_id') != null || bodyField(body, 'conversation') != null;
  }
  // Stored chat completions: listing and anything by id.
  if (root === 'chat' && second === 'completions') return verb !== 'post' || segmentEnd(path, to + 1) < path.length - 1;
  // Deleting a fine-tuned model changes the backend.
  if (root === 'models') return verb === 'delete';
  return false;
}

/** Index where the path segment starting at `from` ends (at `/`, `?` or the end). */
function segmentEnd(path: string, from: number): number {
  for (let i = from; i < path.length; i++) {
    const c = path.charCodeAt(i);
    if (c === 47 || c === 63) return i;
  }
  return path.length;
}
