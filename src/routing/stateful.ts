import type { RequestInfo } from '../options/contracts.js';

/**
 * How a call on a resource is treated:
 * - `stateful`: it creates, reads, lists or changes objects that live on one backend; it stays
 *   on its endpoint (or goes to the endpoint that created the ids it names) and its answer's ids
 *   are remembered;
 * - `stateless`: plain compute; it may fail over;
 * - a function: decided by the method, the rest of the path and the body.
 */
export type ResourceRule = 'stateful' | 'stateless' | ((verb: string, rest: string, body: unknown) => boolean);

function bodyField(body: unknown, name: string): unknown {
  if (body instanceof FormData) return body.get(name);
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>)[name] : undefined;
}

/** An input item only the backend that produced it can read, or one that points at a stored item. */
function isBoundItem(item: unknown): boolean {
  if (typeof item !== 'object' || item === null) return false;
  const i = item as Record<string, unknown>;
  return i.type === 'item_reference' || typeof i.encrypted_content === 'string';
}

/** A Responses call continues stored state: a previous response, a conversation, a bound input item. */
function continuesState(body: unknown): boolean {
  if (bodyField(body, 'previous_response_id') != null || bodyField(body, 'conversation') != null) return true;
  const input = bodyField(body, 'input');
  return Array.isArray(input) && input.some(isBoundItem);
}

/**
 * Every resource of the SDK, by its first path segment or its first two. test/stateful-table.test.ts
 * fails when the installed openai builds a path that no entry names, so that a new SDK version
 * cannot add a stateful resource that would silently fail over.
 */
export const RESOURCE_TABLE: Readonly<Record<string, ResourceRule>> = {
  // Objects that live on one backend.
  agents: 'stateful',
  assistants: 'stateful',
  'audio/voice_consents': 'stateful',
  'audio/voices': 'stateful',
  batches: 'stateful',
  chatkit: 'stateful',
  containers: 'stateful',
  conversations: 'stateful',
  evals: 'stateful',
  files: 'stateful',
  'fine_tuning/checkpoints': 'stateful',
  'fine_tuning/jobs': 'stateful',
  live: 'stateful',
  organization: 'stateful',
  // Project roles (admin API) live under `/projects/{id}/roles`, outside `/organization`.
  projects: 'stateful',
  // Sessions, calls and client secrets are bound to the backend that issued them.
  realtime: 'stateful',
  safety: 'stateful',
  skills: 'stateful',
  threads: 'stateful',
  uploads: 'stateful',
  vaults: 'stateful',
  vector_stores: 'stateful',
  videos: 'stateful',
  webhook_endpoints: 'stateful',
  // Compute that keeps nothing.
  'audio/speech': 'stateless',
  'audio/transcriptions': 'stateless',
  'audio/translations': 'stateless',
  completions: 'stateless',
  content_provenance_checks: 'stateless',
  decisions: 'stateless',
  embeddings: 'stateless',
  'fine_tuning/alpha': 'stateless',
  images: 'stateless',
  moderations: 'stateless',
  webhook_event_types: 'stateless',
  // `/responses/{id}...` addresses a stored response; a create (or a count, a compaction) may continue one.
  responses: (_verb, rest, body) => (rest !== '' && rest !== 'input_tokens' && rest !== 'compact') || continuesState(body),
  // Stored chat completions: listing, and anything by id.
  'chat/completions': (verb, rest) => verb !== 'post' || rest !== '',
  // Deleting a fine-tuned model changes the backend; listing and reading models do not.
  models: (verb) => verb === 'delete',
};

type Resource = { readonly key: string; readonly rule: ResourceRule; readonly rest: string } | undefined;

// A call asks for its path's entry several times (its rule, which ids it names and creates), and
// most calls use a few paths: the last ones looked up are kept (cleared when full, ids vary).
const looked = new Map<string, Resource>();

/** The table's entry for a path and the rest of the path after it, or undefined when none names it. */
export function resourceOf(path: string): Resource {
  let entry = looked.get(path);
  if (entry === undefined && !looked.has(path)) {
    entry = lookUp(path);
    if (looked.size >= 256) looked.clear();
    looked.set(path, entry);
  }
  return entry;
}

function lookUp(path: string): Resource {
  const [first, second, rest] = segments(path);
  if (!first) return undefined;
  const key = second === undefined ? undefined : `${first}/${second}`;
  const two = key === undefined ? undefined : RESOURCE_TABLE[key];
  if (two !== undefined) return { key: key!, rule: two, rest };
  const one = RESOURCE_TABLE[first];
  if (one === undefined) return undefined;
  return {
    key: first,
    rule: one,
    rest:
      second === undefined ? ''
      : rest === '' ? second
      : `${second}/${rest}`,
  };
}

/** The first two segments of a path (after an optional `/v1`) and what follows, without a query. */
function segments(path: string): [string, string | undefined, string] {
  // Called for every request: index arithmetic, no split.
  let end = path.indexOf('?');
  if (end === -1) end = path.length;
  let from = path.charCodeAt(0) === 47 ? 1 : 0;
  let to = segmentEnd(path, from, end);
  if (path.slice(from, to) === 'v1') {
    from = to + 1;
    to = segmentEnd(path, from, end);
  }
  const first = path.slice(from, Math.min(to, end));
  if (to >= end) return [first, undefined, ''];
  const secondEnd = segmentEnd(path, to + 1, end);
  const second = path.slice(to + 1, secondEnd);
  let rest = secondEnd < end ? path.slice(secondEnd + 1, end) : '';
  if (rest.endsWith('/')) rest = rest.slice(0, -1);
  return [first, second === '' ? undefined : second, rest];
}

function segmentEnd(path: string, from: number, end: number): number {
  const slash = path.indexOf('/', from);
  return slash === -1 || slash > end ? end : slash;
}

/**
 * True for calls that address or create server-side state. Everything else (chat completions,
 * completions, embeddings, images, audio, moderations, responses without stored state, model
 * listing, custom paths) is stateless and may fail over.
 */
export function isStatefulRequest({ method, path, body }: RequestInfo): boolean {
  const entry = resourceOf(path);
  if (!entry) return false;
  const { rule, rest } = entry;
  return typeof rule === 'function' ? rule(method.toLowerCase(), rest, body) : rule === 'stateful';
}
