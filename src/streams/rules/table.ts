import { chatRule } from './chat.js';
import { namedEventRule, type EventNames } from './named-events.js';
import type { StreamRule } from './types.js';

/** One streaming endpoint of the SDK and how its stream ends (README "Streams that tell the truth"). */
interface Entry {
  /** Path after the API base (`/v1`), `*` for one segment. */
  path: string;
  /** What ends the stream, in words (the README table). */
  terminal: string;
  rule: (body: unknown) => StreamRule;
}

const named = (names: EventNames) => {
  const make = namedEventRule(names);
  return { terminal: [...names.done, ...names.failed].join(', '), rule: () => make() };
};

const RESPONSES: EventNames = {
  done: ['response.completed', 'response.incomplete', 'response.cancelled'],
  failed: ['response.failed', 'error'],
  lifecycle: ['response.created', 'response.queued', 'response.in_progress'],
};
const ASSISTANTS: EventNames = {
  done: [
    'thread.run.completed',
    'thread.run.incomplete',
    'thread.run.cancelled',
    'thread.run.expired',
    'thread.run.requires_action',
    'done',
  ],
  failed: ['thread.run.failed', 'error'],
  lifecycle: ['thread.created', 'thread.run.created', 'thread.run.queued', 'thread.run.in_progress'],
};
const TRANSCRIPTION: EventNames = { done: ['transcript.text.done'], failed: ['error'], lifecycle: [] };
const IMAGE_GENERATION: EventNames = { done: ['image_generation.completed'], failed: ['error'], lifecycle: [] };
const IMAGE_EDIT: EventNames = { done: ['image_edit.completed'], failed: ['error'], lifecycle: [] };

const CHAT_TERMINAL = '`data: [DONE]`, or a `finish_reason` on every choice (`n`)';

/** Every streaming endpoint of the SDK, with the frames that end its stream. `[DONE]` ends any. */
export const STREAM_ENDPOINTS: readonly Entry[] = [
  { path: '/chat/completions', terminal: CHAT_TERMINAL, rule: chatRule },
  { path: '/completions', terminal: CHAT_TERMINAL, rule: chatRule },
  { path: '/responses', ...named(RESPONSES) },
  { path: '/responses/*', ...named(RESPONSES) },
  { path: '/audio/transcriptions', ...named(TRANSCRIPTION) },
  { path: '/images/generations', ...named(IMAGE_GENERATION) },
  { path: '/images/edits', ...named(IMAGE_EDIT) },
  { path: '/threads/runs', ...named(ASSISTANTS) },
  { path: '/threads/*/runs', ...named(ASSISTANTS) },
  { path: '/threads/*/runs/*/submit_tool_outputs', ...named(ASSISTANTS) },
];

// Any other path that streams (a custom `client.post(..., { stream: true })`): a frame that ends
// any of the streams above ends it.
// (namedEventRule compiles its names at the first stream that uses it.)
const ANY = namedEventRule({
  done: [...new Set([RESPONSES, ASSISTANTS, TRANSCRIPTION, IMAGE_GENERATION, IMAGE_EDIT].flatMap((n) => n.done))],
  failed: [...new Set([RESPONSES, ASSISTANTS].flatMap((n) => n.failed))],
  lifecycle: [...RESPONSES.lifecycle, ...ASSISTANTS.lifecycle],
});

function segments(path: string): string[] {
  const bare = path.split('?')[0]!.replace(/^\/+|\/+$/g, '');
  const parts = bare.split('/');
  return parts[0] === 'v1' ? parts.slice(1) : parts;
}

// Split at the first stream, not at import (see namedEventRule).
let table: { parts: string[]; rule: Entry['rule'] }[] | undefined;

// Streams use a few paths: the entry found for each is kept (cleared when full, ids vary).
const found = new Map<string, ((body: unknown) => StreamRule) | null>();

function entryFor(path: string): ((body: unknown) => StreamRule) | null {
  const parts = segments(path);
  table ??= STREAM_ENDPOINTS.map((entry) => ({ parts: segments(entry.path), rule: entry.rule }));
  for (const entry of table) {
    if (entry.parts.length === parts.length && entry.parts.every((p, i) => p === '*' || p === parts[i])) return entry.rule;
  }
  return null;
}

/** The rule for a streaming request's path; the request body gives `n` for chat. */
export function ruleFor(path: string, body: unknown): StreamRule {
  let rule = found.get(path);
  if (rule === undefined) {
    rule = entryFor(path);
    if (found.size >= 256) found.clear();
    found.set(path, rule);
  }
  return rule ? rule(body) : ANY();
}
