/**
 * RESOURCE_TABLE must name every path the installed openai can build: a path it does not name is
 * treated as stateless, so a stateful resource added by a new SDK version would silently fail over.
 * Two checks against the installed SDK (its calls, run against a recording fetch, and its source),
 * plus string checks for openai 7 paths that hold whatever version is installed.
 */
import OpenAI from 'openai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { isStatefulRequest } from '../src/index.js';
import { resourceOf } from '../src/routing/stateful.js';
import { OPENAI_DIR, OPENAI_VERSION } from './support/openai-package.js';

const ID = /^id_\d$/;

/** `POST /files/{id}/content`: ids the walk passed in become `{id}`, so calls with other ids collapse. */
const template = (method: string, path: string) =>
  `${method.toUpperCase()} ${path
    .split('/')
    .map((s) => (ID.test(s) ? '{id}' : s))
    .join('/')}`;

/** Generic enough that pages end, pollers see a final status, and parsers get an object. */
const ANSWER = JSON.stringify({ id: 'id_1', object: 'list', data: [], has_more: false, status: 'completed' });

/** Per call: long enough for any non-polling call in a loaded run, short enough to keep the file fast. */
const CALL_BUDGET_MS = 1500;

/**
 * Params whose fields name path ids (`project_id`, `thread_id`, …) answer 'id_2' for any such
 * field, so methods that take their parent ids inside params can build their path; it has no own
 * keys, so bodies and queries built from it stay empty.
 */
const idParams = () =>
  new Proxy(
    {},
    {
      get: (target, key, receiver) => (typeof key === 'string' && /(^|_)id$|ID$/.test(key) ? 'id_2' : Reflect.get(target, key, receiver)),
    },
  );

/** Params for path ids named otherwise (`fine_tuned_model_checkpoint`): every field not set answers 'id_2'. */
const anyParams = () =>
  new Proxy(
    {},
    {
      get: (target, key, receiver) =>
        typeof key === 'string' && !(key in target) && key !== 'then' ? 'id_2' : Reflect.get(target, key, receiver),
    },
  );

/**
 * The walk knows no signatures: SDK methods take `(id, params, options)`, `(params, options)` or
 * `(id, id, params)`, and a few helpers check their body before sending, so each gets every shape.
 */
const SHAPES: (() => unknown[])[] = [
  () => ['id_1', idParams(), { pollIntervalMs: 1 }],
  () => ['id_1', anyParams(), {}],
  // What the chat and agent session helpers need before they send anything.
  () => [{ model: 'm', messages: [], tools: [] }, {}],
  () => ['id_1', { input: 'x' }, {}],
  () => [idParams(), { pollIntervalMs: 1 }],
  () => ['id_1', 'id_2', idParams()],
  () => ['id_1', {}, {}],
  () => [{}, {}],
  () => [],
];

interface Resource {
  readonly _client: unknown;
}
const isResource = (value: unknown): value is Resource => typeof value === 'object' && value !== null && '_client' in value;

/**
 * Resources are told by their `_client` rather than by class, so the walk survives the SDK moving
 * or renaming APIResource; methods come from the prototype chain, where the SDK defines them.
 */
function walk(root: object, prefix: string[] = [], seen = new Set<object>()): { path: string[]; method: string }[] {
  const found: { path: string[]; method: string }[] = [];
  for (const key of Object.keys(root)) {
    if (key.startsWith('_')) continue;
    const child = (root as Record<string, unknown>)[key];
    if (!isResource(child) || seen.has(child)) continue;
    seen.add(child);
    const names = new Set<string>();
    for (let proto = Object.getPrototypeOf(child); proto && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
      for (const name of Object.getOwnPropertyNames(proto)) {
        // Descriptors, not values: a getter is not a method and must not run here.
        const descriptor = Object.getOwnPropertyDescriptor(proto, name);
        if (name !== 'constructor' && !name.startsWith('_') && typeof descriptor?.value === 'function') names.add(name);
      }
    }
    for (const method of names) found.push({ path: [...prefix, key], method });
    found.push(...walk(child, [...prefix, key], seen));
  }
  return found;
}

/**
 * What the call returned, as a promise that settles when the call is over. Stream helpers reject
 * unhandled on 'error' unless someone listens or waits on `done()`, so both are taken care of.
 */
function settled(value: unknown): Promise<unknown> {
  if (typeof value === 'object' && value !== null) {
    const v = value as { on?: unknown; done?: unknown; then?: unknown };
    if (typeof v.on === 'function') {
      try {
        (v.on as (event: string, listener: () => void) => void).call(value, 'error', () => {});
      } catch {
        // not an event emitter after all
      }
    }
    if (typeof v.done === 'function') return Promise.resolve((v.done as () => unknown).call(value));
    // Lazy streams send their request when read.
    if (typeof v.then !== 'function' && Symbol.asyncIterator in value) {
      return (async () => {
        for await (const _ of value as AsyncIterable<unknown>) void _;
      })();
    }
  }
  return Promise.resolve(value);
}

interface Sent {
  method: string;
  path: string;
}

/** Runs one method with every shape on a client of its own, so a late request is still its own. */
async function exercise(resourcePath: string[], method: string): Promise<Sent[]> {
  const sent: Sent[] = [];
  let closed = false;
  const recordingFetch = (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    // The SDK probes its fetch with a `data:` URL before multipart uploads; that is no request.
    if (url.protocol !== 'http:') return Promise.resolve(new Response(''));
    sent.push({
      method: (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase(),
      path: url.pathname.replace(/^\/v1(?=\/|$)/, '') || '/',
    });
    // Pollers still running past their budget stop at their next request.
    if (closed) return Promise.reject(new Error('closed'));
    return Promise.resolve(new Response(ANSWER, { status: 200, headers: { 'content-type': 'application/json' } }));
  };
  const client = new OpenAI({
    apiKey: 'sk-test',
    // Admin endpoints authenticate with the admin key only; without one they throw before fetching.
    adminAPIKey: 'sk-admin-test',
    baseURL: 'http://127.0.0.1:9/v1',
    maxRetries: 0,
    fetch: recordingFetch,
  });
  let resource: unknown = client;
  for (const key of resourcePath) resource = (resource as Record<string, unknown>)[key];
  const fn = (resource as Record<string, (...args: unknown[]) => unknown>)[method]!;
  await Promise.all(
    SHAPES.map(async (shape) => {
      let timer: NodeJS.Timeout | undefined;
      const call = Promise.resolve()
        .then(() => settled(fn.apply(resource, shape())))
        .catch(() => undefined);
      const budget = new Promise<void>((resolve) => (timer = setTimeout(resolve, CALL_BUDGET_MS)));
      await Promise.race([call, budget]);
      clearTimeout(timer);
    }),
  );
  closed = true;
  return sent;
}

describe(`every request path openai ${OPENAI_VERSION} builds is in RESOURCE_TABLE`, () => {
  it('calling every resource method: each path it sends is classified', async () => {
    const methods = walk(new OpenAI({ apiKey: 'sk-test', adminAPIKey: 'sk-admin-test', baseURL: 'http://127.0.0.1:9/v1' }));
    const results = await Promise.all(methods.map(async (m) => ({ ...m, sent: await exercise(m.path, m.method) })));

    const all = results.flatMap((r) => r.sent.map((s) => ({ ...s, by: `${r.path.join('.')}.${r.method}` })));
    const unclassified = [...new Set(all.filter((s) => !resourceOf(s.path)).map((s) => `${template(s.method, s.path)}  (${s.by})`))].sort();
    const templates = new Set(all.map((s) => template(s.method, s.path)));
    const silent = results.filter((r) => r.sent.length === 0).map((r) => `${r.path.join('.')}.${r.method}`);
    const covered = results.length - silent.length;
    console.info(
      `openai ${OPENAI_VERSION}: ${results.length} methods walked, ${covered} sent a request ` +
        `(${((100 * covered) / results.length).toFixed(1)}%), ${templates.size} distinct method+path templates; ` +
        `no request from: ${silent.join(', ') || 'none'}`,
    );

    expect(unclassified, `paths no RESOURCE_TABLE entry names (add one to src/routing/stateful.ts):\n${unclassified.join('\n')}`).toEqual(
      [],
    );

    // The walk must really have reached the SDK: a broken walk or fetch would pass the check above.
    expect(templates.size, 'distinct method+path templates sent').toBeGreaterThanOrEqual(150);
    for (const known of ['POST /files', 'GET /files/{id}', 'POST /responses', 'POST /chat/completions', 'GET /models']) {
      expect([...templates], `expected ${known} among the requests sent`).toContain(known);
    }
    expect(covered / results.length, `share of methods that sent a request; silent: ${silent.join(', ')}`).toBeGreaterThanOrEqual(0.9);
  });
});

function mjsFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return (
      statSync(full).isDirectory() ? mjsFiles(full)
      : name.endsWith('.mjs') ? [full]
      : []
    );
  });
}

const VERB = String.raw`\.(?:get|post|put|patch|delete|getAPIList)\(`;
/** A client call with its path as the first argument: path`/a/${id}`, '/a' or "/a". */
const PATH_CALL = new RegExp(`${VERB}\\s*(?:path\\s*)?(\`[^\`]*\`|'[^']*'|"[^"]*")`, 'g');
/** Any call on the client, to notice one whose path is no literal (the scan would miss it). */
const CLIENT_CALL = new RegExp(`_client${VERB}`, 'g');

describe(`every path literal in openai ${OPENAI_VERSION}'s source is in RESOURCE_TABLE`, () => {
  it('resources/ and lib/: each path literal passed to the client is classified', () => {
    const found = new Map<string, string>(); // path with ids → file it came from
    const unreadable: string[] = [];
    for (const file of [...mjsFiles(join(OPENAI_DIR, 'resources')), ...mjsFiles(join(OPENAI_DIR, 'lib'))]) {
      const source = readFileSync(file, 'utf8');
      const name = relative(OPENAI_DIR, file);
      let literals = 0;
      for (const match of source.matchAll(PATH_CALL)) {
        const path = match[1]!.slice(1, -1).replace(/\$\{[^}]*\}/g, 'id_1');
        if (!path.startsWith('/')) continue;
        if (source.slice(match.index - 7, match.index) === '_client') literals++;
        if (!found.has(path)) found.set(path, name);
      }
      const calls = source.match(CLIENT_CALL)?.length ?? 0;
      if (calls !== literals) unreadable.push(`${name}: ${calls} client calls, ${literals} with a path literal`);
    }
    const unclassified = [...found].filter(([path]) => !resourceOf(path)).map(([path, file]) => `${path}  (${file})`);
    console.info(`openai ${OPENAI_VERSION}: ${found.size} path templates in resources/ and lib/`);

    expect(unclassified, `paths no RESOURCE_TABLE entry names (add one to src/routing/stateful.ts):\n${unclassified.join('\n')}`).toEqual(
      [],
    );
    // A changed code shape must fail here rather than leave paths unread.
    expect(unreadable, 'client calls whose path this scan cannot read').toEqual([]);
    expect(found.size, 'path templates found').toBeGreaterThan(100);
  });
});

describe('isStatefulRequest on openai 7 paths', () => {
  const cases: [string, string, unknown, boolean][] = [
    ['post', '/agents/sessions', {}, true],
    ['get', '/vaults/v_1', undefined, true],
    ['post', '/live/sessions', {}, true],
    ['post', '/webhook_endpoints', {}, true],
    ['post', '/audio/voices', new FormData(), true],
    ['get', '/organization/projects/p_1/roles', undefined, true],
    ['post', '/realtime/client_secrets', {}, true],
    ['post', '/responses', { input: [{ type: 'reasoning', id: 'rs_1', encrypted_content: 'x', summary: [] }] }, true],
    ['post', '/responses', { input: [{ type: 'item_reference', id: 'msg_1' }] }, true],
    ['post', '/decisions', {}, false],
    ['post', '/content_provenance_checks', {}, false],
    ['get', '/webhook_event_types', undefined, false],
    ['post', '/responses/input_tokens', { input: 'x' }, false],
    ['post', '/fine_tuning/alpha/graders/run', {}, false],
    ['post', '/audio/speech', {}, false],
    ['post', '/custom', {}, false],
    // Built by openai 6 and 7 alike, outside `/organization`.
    ['get', '/projects/p_1/roles', undefined, true],
  ];
  for (const [method, path, body, expected] of cases) {
    const shown =
      body && typeof body === 'object' && !(body instanceof FormData) && Object.keys(body).length ? ` ${JSON.stringify(body)}` : '';
    it(`${method.toUpperCase()} ${path}${shown} → ${expected ? 'stays' : 'may fail over'}`, () => {
      expect(isStatefulRequest({ method, path, body })).toBe(expected);
    });
  }
});
