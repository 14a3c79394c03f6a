// The ids an answer creates or shows, which the endpoint that gave it is the home of.
import { resourceOf } from '../routing/stateful.js';

/**
 * What a call's answer is remembered for:
 * - `all`: its id, its list's ids and its output items' ids;
 * - `bound`: only output items that carry `encrypted_content` (a `store: false` response, whose
 *   reasoning only the backend that produced it can read);
 * - `undefined`: nothing (stateless compute).
 */
export type RecordMode = 'all' | 'bound' | undefined;

function field(body: unknown, name: string): unknown {
  return typeof body === 'object' && body !== null && !(body instanceof FormData) ? (body as Record<string, unknown>)[name] : undefined;
}

export function recordMode(method: string, path: string, body: unknown): RecordMode {
  const entry = resourceOf(path);
  if (!entry || entry.rule === 'stateless') return undefined;
  if (entry.rule === 'stateful') return 'all';
  const { key, rest } = entry;
  const creates = method.toLowerCase() === 'post' && (rest === '' || rest === 'compact');
  // Responses are stored unless `store: false`; chat completions only with `store: true`.
  if (key === 'responses') {
    if (rest === 'input_tokens') return undefined;
    if (creates) return field(body, 'store') === false ? 'bound' : 'all';
    return 'all';
  }
  if (key === 'chat/completions') return !creates || field(body, 'store') === true ? 'all' : undefined;
  return undefined;
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null;
}

function outputIds(output: unknown, mode: RecordMode, out: string[]): void {
  if (!Array.isArray(output)) return;
  for (const item of output) {
    if (!isObject(item) || typeof item.id !== 'string') continue;
    if (mode === 'all' || typeof item.encrypted_content === 'string') out.push(item.id);
  }
}

/** The ids in a parsed JSON answer: the object's own, a list's elements', a response's items'. */
export function answerIds(json: unknown, mode: RecordMode): string[] {
  const out: string[] = [];
  if (!isObject(json) || mode === undefined) return out;
  if (mode === 'all' && typeof json.id === 'string') out.push(json.id);
  outputIds(json.output, mode, out);
  if (mode === 'all' && Array.isArray(json.data)) {
    for (const element of json.data) {
      if (!isObject(element)) continue;
      if (typeof element.id === 'string') out.push(element.id);
      // A listed response (or conversation item) brings its items.
      outputIds(element.output, mode, out);
    }
  }
  return out;
}

/** The ids a Responses stream event shows: the response's, then its output items'. */
export function streamEventIds(event: unknown, mode: RecordMode): string[] {
  const response = isObject(event) ? event.response : undefined;
  return answerIds(response, mode);
}
