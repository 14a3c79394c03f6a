import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { toFile } from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ResilientOpenAI, type ResilientOptions } from '../src/index.js';
import { chat, clientFor, fallbackOn, record, track, upstream } from './support/harness.js';
import { refusedURL, type Upstream } from './support/upstream.js';

// Every fault against every kind of call, on real loopback servers. Each cell records what the
// caller got, how many requests each upstream received and how many switches happened; the table
// is printed, saved, and must match the "Failure semantics" table in README.md.

type Kind = 'JSON' | 'SSE stream' | 'pagination' | 'toFile upload' | '.stream() helper' | 'client.fetch JSON' | 'client.fetch SSE';
const KINDS: Kind[] = ['JSON', 'SSE stream', 'pagination', 'toFile upload', '.stream() helper', 'client.fetch JSON', 'client.fetch SSE'];
/** A call through `client.fetch` behaves as the SDK call of the same shape, unless a cell says otherwise. */
const SAME_AS: Partial<Record<Kind, Kind>> = { 'client.fetch JSON': 'JSON', 'client.fetch SSE': 'SSE stream' };
const expectedOf = (s: Scenario, k: Kind): string => s.expected[k] ?? (SAME_AS[k] && s.expected[SAME_AS[k]]) ?? s.expected.default;

interface Scenario {
  fault: string;
  /** Arranges the fault; returns the primary URL to use instead of the upstream's (refused, unknown). */
  arrange(primary: Upstream, fallback: Upstream): void | Promise<string>;
  /** Calls per cell (the flapping primary needs more than one to show it does not bounce). */
  calls?: number;
  /** Runs a health probe of the primary before the calls (the fault then meets the probe first). */
  probeFirst?: boolean;
  /** Added to the request body of the streaming kinds (SSE stream, .stream() helper), e.g. `{ n: 2 }`. */
  streamBody?: Record<string, unknown>;
  /** The streaming kinds start a background Responses run (`background: true`) instead of a chat stream. */
  background?: boolean;
  /** Client options over {@link OPTIONS} (`timeouts` merged). */
  options?: Partial<ResilientOptions>;
  expected: Partial<Record<Kind, string>> & { default: string };
}

const SCENARIOS: Scenario[] = [
  {
    fault: '502 HTML page',
    arrange: (p) => p.setFault({ kind: 'bad-gateway' }),
    expected: { default: 'fallback · P1 F1 · 1 switch, 1 retry' },
  },
  {
    fault: '503',
    arrange: (p) => p.setFault({ kind: 'status', status: 503 }),
    expected: { default: 'fallback · P1 F1 · 1 switch, 1 retry' },
  },
  {
    fault: '504',
    arrange: (p) => p.setFault({ kind: 'status', status: 504 }),
    expected: { default: 'fallback · P1 F1 · 1 switch, 1 retry' },
  },
  { fault: 'refused port', arrange: () => refusedURL(), expected: { default: 'fallback · P- F1 · 1 switch, 1 retry' } },
  {
    fault: 'reset before headers',
    arrange: (p) => p.setFault({ kind: 'reset' }),
    expected: { default: 'fallback · P1 F1 · 1 switch, 1 retry' },
  },
  {
    fault: 'hang before headers',
    arrange: (p) => p.setFault({ kind: 'hang' }),
    expected: { default: 'fallback · P1 F1 · 1 switch, 1 retry' },
  },
  {
    fault: 'slow body',
    arrange: (p) => p.setFault({ kind: 'slow-body', ms: 400 }),
    expected: { default: 'fallback · P1 F1 · 1 switch, 1 retry', 'SSE stream': 'primary · P1 F0', '.stream() helper': 'primary · P1 F0' },
  },
  {
    fault: 'cut SSE stream',
    arrange: (p) => p.queue({ kind: 'cut-stream', afterChunks: 1 }),
    expected: {
      default: 'fallback · P1 F1 · 1 switch, 1 retry',
      'SSE stream': 'IncompleteStreamError · P1 F0 · 1 switch',
      '.stream() helper': 'IncompleteStreamError · P1 F0 · 1 switch',
    },
  },
  {
    fault: 'stream without [DONE]',
    arrange: (p) => p.queue({ kind: 'truncated-stream', afterChunks: 1 }),
    expected: {
      default: 'primary · P1 F0',
      'SSE stream': 'IncompleteStreamError · P1 F0 · 1 switch',
      '.stream() helper': 'IncompleteStreamError · P1 F0 · 1 switch',
    },
  },
  {
    fault: 'marker text in content then cut',
    arrange: (p) => p.queue({ kind: 'marker-text-cut' }),
    expected: {
      default: 'primary · P1 F0',
      'SSE stream': 'IncompleteStreamError · P1 F0 · 1 switch',
      '.stream() helper': 'IncompleteStreamError · P1 F0 · 1 switch',
    },
  },
  {
    fault: 'n=2 half-finished',
    arrange: (p) => p.queue({ kind: 'half-finished' }),
    streamBody: { n: 2 },
    expected: {
      default: 'primary · P1 F0',
      'SSE stream': 'IncompleteStreamError · P1 F0 · 1 switch',
      '.stream() helper': 'IncompleteStreamError · P1 F0 · 1 switch',
    },
  },
  {
    fault: 'stall after the first output',
    arrange: (p) => p.queue({ kind: 'stall-after-output' }),
    expected: {
      default: 'primary · P1 F0',
      'SSE stream': 'StreamIdleTimeoutError · P1 F0 · 1 switch',
      '.stream() helper': 'StreamIdleTimeoutError · P1 F0 · 1 switch',
    },
  },
  {
    fault: 'lifecycle-only stall',
    arrange: (p) => p.queue({ kind: 'lifecycle-stall' }),
    expected: {
      default: 'primary · P1 F0',
      'SSE stream': 'fallback · P1 F1 · 1 switch, 1 retry',
      '.stream() helper': 'fallback · P1 F1 · 1 switch, 1 retry',
    },
  },
  {
    fault: 'error frame first',
    arrange: (p) => p.queue({ kind: 'error-frame' }),
    expected: {
      default: 'primary · P1 F0',
      'SSE stream': 'fallback · P1 F1 · 1 switch, 1 retry',
      '.stream() helper': 'fallback · P1 F1 · 1 switch, 1 retry',
    },
  },
  {
    fault: 'error frame after output',
    arrange: (p) => p.queue({ kind: 'error-frame', afterOutput: true }),
    expected: {
      default: 'primary · P1 F0',
      'SSE stream': 'APIError · P1 F0 · 1 switch',
      '.stream() helper': 'APIError · P1 F0 · 1 switch',
      // The frame reaches the host library as the provider sent it; the breaker counted it.
      'client.fetch SSE': 'ErrorFrame · P1 F0 · 1 switch',
    },
  },
  {
    fault: 'non-SSE 200',
    arrange: (p) => p.queue({ kind: 'non-sse-200' }),
    expected: {
      default: 'primary · P1 F0',
      'SSE stream': 'fallback · P1 F1 · 1 switch, 1 retry',
      '.stream() helper': 'fallback · P1 F1 · 1 switch, 1 retry',
    },
  },
  // Background Responses runs: the streaming kinds start one, and the faults are stream faults (the
  // other kinds get a normal answer). A run lives on the server: broken after output, its stream
  // continues on the same endpoint (GET /responses/{id}?stream=true&starting_after=N), one more
  // request to P each time. The first connection breaks after the first text delta; "cut twice"
  // cuts the continuation after one more event; the 404 answers the continuation.
  {
    fault: 'background stream cut once',
    arrange: (p) => p.queue({ kind: 'stream-break', afterEvents: 5, how: 'cut' }),
    background: true,
    expected: { default: 'primary · P1 F0', 'SSE stream': 'primary · P2 F0', '.stream() helper': 'primary · P2 F0' },
  },
  {
    fault: 'background stream cut twice',
    arrange: (p) => p.queue({ kind: 'stream-break', afterEvents: 5, how: 'cut' }, { kind: 'stream-break', afterEvents: 1, how: 'cut' }),
    background: true,
    expected: { default: 'primary · P1 F0', 'SSE stream': 'primary · P3 F0', '.stream() helper': 'primary · P3 F0' },
  },
  {
    fault: 'background stream stall',
    arrange: (p) => p.queue({ kind: 'stream-break', afterEvents: 5, how: 'stall' }),
    background: true,
    // Shorter than the matrix's 1000 ms: the stall is waited out in each streaming cell.
    options: { timeouts: { streamIdleMs: 200 } },
    expected: { default: 'primary · P1 F0', 'SSE stream': 'primary · P2 F0', '.stream() helper': 'primary · P2 F0' },
  },
  {
    fault: 'background stream, resume answered 404',
    arrange: (p) => p.queue({ kind: 'stream-break', afterEvents: 5, how: 'cut' }, { kind: 'status', status: 404 }),
    background: true,
    expected: {
      default: 'primary · P1 F0',
      'SSE stream': 'IncompleteStreamError · P2 F0 · 1 switch',
      '.stream() helper': 'IncompleteStreamError · P2 F0 · 1 switch',
    },
  },
  {
    fault: '429 with a short Retry-After',
    arrange: (p) => p.queue({ kind: 'rate-limit', retryAfter: '0' }),
    expected: { default: 'primary · P2 F0 · 1 retry' },
  },
  {
    fault: '429 with a long Retry-After',
    arrange: (p) => p.queue({ kind: 'rate-limit', retryAfter: '120' }),
    expected: { default: 'fallback · P1 F1 · 1 switch, 1 retry' },
  },
  {
    fault: '429 insufficient_quota',
    arrange: (p) =>
      p.queue({
        kind: 'status',
        status: 429,
        body: JSON.stringify({
          error: { message: 'You exceeded your current quota', type: 'insufficient_quota', code: 'insufficient_quota' },
        }),
      }),
    expected: { default: 'fallback · P1 F1 · 1 switch, 1 retry' },
  },
  {
    fault: '500 burst then success',
    arrange: (p) => p.queue({ kind: 'status', status: 500 }, { kind: 'status', status: 500 }),
    expected: { default: 'primary · P3 F0 · 2 retries' },
  },
  {
    fault: 'unknown host',
    arrange: () => Promise.resolve('http://unknown-host.invalid/v1'),
    expected: { default: 'fallback · P- F1 · 1 switch, 1 retry' },
  },
  {
    fault: 'flapping primary (3 calls)',
    arrange: (p) =>
      p.queue({ kind: 'bad-gateway' }, ...Array.from({ length: 2 }, () => ({ kind: 'delay' as const, ms: 0 })), { kind: 'bad-gateway' }),
    calls: 3,
    expected: { default: 'fallback · P1 F3 · 1 switch, 1 retry' },
  },
  {
    fault: 'probe answered 401',
    arrange: (p) => p.queue({ kind: 'status', status: 401 }),
    probeFirst: true,
    expected: { default: 'primary · P2 F0' },
  },
  {
    fault: 'both endpoints down',
    arrange: (p, f) => {
      p.setFault({ kind: 'bad-gateway' });
      f.setFault({ kind: 'status', status: 503 });
    },
    expected: {
      default: 'InternalServerError 502 · P2 F1 · 1 switch, 2 retries',
      // fetch() answers an HTTP error with its Response: the last attempt's.
      'client.fetch JSON': 'HTTP 502 · P2 F1 · 1 switch, 2 retries',
      'client.fetch SSE': 'HTTP 502 · P2 F1 · 1 switch, 2 retries',
    },
  },
];

// streamIdleMs sits well above the slow body's 400 ms between events (a slow stream that keeps
// coming is served) and well below the 8 s guard (a stream that stops is ended). Retries and
// the continuations of a background run wait next to nothing.
const OPTIONS: Partial<ResilientOptions> = {
  healthCheck: false,
  retry: { initialDelayMs: 1, maxDelayMs: 5 },
  resume: { delayMs: 1 },
  timeouts: { requestMs: 250, streamHeadersMs: 250, streamIdleMs: 1000, deadlineMs: 10_000 },
};

/** The background Responses run the streaming kinds start in the background rows. */
const run = { model: chat.model, input: 'hi', background: true };

async function call(client: ResilientOpenAI, kind: Kind, { streamBody = {}, background }: Scenario): Promise<string> {
  switch (kind) {
    case 'JSON':
      return (await client.chat.completions.create(chat)).choices[0]!.message.content ?? '';
    case 'SSE stream': {
      let text = '';
      if (background) {
        for await (const event of await client.responses.create({ ...run, stream: true }))
          if (event.type === 'response.output_text.delta') text += event.delta;
        return text;
      }
      for await (const chunk of await client.chat.completions.create({ ...chat, ...streamBody, stream: true }))
        text += chunk.choices[0]?.delta?.content ?? '';
      return text;
    }
    case 'pagination': {
      const owners: string[] = [];
      for await (const model of client.models.list()) owners.push(`from ${model.owned_by}`);
      return owners.join(' ');
    }
    case 'toFile upload':
      return (await client.audio.transcriptions.create({ model: 'whisper-1', file: await toFile(Buffer.from('abc'), 'a.wav') })).text;
    case '.stream() helper':
      if (background) return (await client.responses.stream(run).finalResponse()).output_text;
      return (await client.chat.completions.stream({ ...chat, ...streamBody }).finalContent()) ?? '';
    case 'client.fetch JSON':
    case 'client.fetch SSE': {
      const stream = kind === 'client.fetch SSE';
      const body = JSON.stringify(
        !stream ? chat
        : background ? { ...run, stream }
        : { ...chat, ...streamBody, stream },
      );
      const fetch = client['fetch'] as typeof globalThis.fetch;
      // As a host library calls it: its own origin and key, which the client replaces.
      const headers = { 'content-type': 'application/json', authorization: 'Bearer unused' };
      const url = `https://api.openai.com/v1/${stream && background ? 'responses' : 'chat/completions'}`;
      const response = await fetch(url, { method: 'POST', headers, body });
      if (!response.ok) throw new HTTP(response.status);
      if (!stream) return ((await response.json()) as { choices: { message: { content: string } }[] }).choices[0]!.message.content;
      return sseText(await response.text());
    }
  }
}

/** fetch() answered with an HTTP error: the cell shows `HTTP <status>`. */
class HTTP extends Error {
  constructor(readonly status: number) {
    super(`HTTP ${status}`);
  }
}
/** A stream handed its error frame to the host library, which reads it as an error event. */
class ErrorFrame extends Error {}

/** The content of a chat or Responses stream's events, as a host library would join it. */
function sseText(wire: string): string {
  let text = '';
  for (const line of wire.split('\n')) {
    if (!line.startsWith('data: ') || line === 'data: [DONE]') continue;
    const event = JSON.parse(line.slice(6)) as {
      type?: string;
      delta?: string;
      error?: unknown;
      choices?: { delta?: { content?: string } }[];
    };
    if (event.error || event.type === 'error') throw new ErrorFrame();
    text += (event.type === 'response.output_text.delta' ? event.delta : event.choices?.[0]?.delta?.content) ?? '';
  }
  return text;
}

function servedBy(output: string): string {
  const names = new Set([...output.matchAll(/(?:from|by) (primary|fallback)/g)].map((m) => m[1]));
  return names.size === 1 ? [...names][0]! : `mixed(${[...names].join('+')})`;
}

function describeError(error: unknown): string {
  const status = (error as { status?: unknown }).status;
  const name = (error as Error)?.constructor?.name ?? typeof error;
  return typeof status === 'number' ? `${name} ${status}` : name;
}

const results = new Map<string, string>();
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);
beforeAll(() => {
  process.on('unhandledRejection', onUnhandled);
});

function render(): string {
  const rows = SCENARIOS.map((s) => `| ${s.fault} | ${KINDS.map((k) => results.get(`${s.fault}|${k}`) ?? '?').join(' | ')} |`);
  return [`| Fault | ${KINDS.join(' | ')} |`, `|---|${KINDS.map(() => '---').join('|')}|`, ...rows].join('\n');
}

describe('fault matrix', () => {
  for (const scenario of SCENARIOS) {
    for (const kind of KINDS) {
      it(`${scenario.fault} × ${kind}`, async () => {
        const primary = await upstream('primary');
        const fallback = await upstream('fallback');
        const replaced = await scenario.arrange(primary, fallback);
        // The fallback has a timeout of its own: only the primary's faults race the 250 ms.
        const options = { ...OPTIONS, ...scenario.options, timeouts: { ...OPTIONS.timeouts, ...scenario.options?.timeouts } };
        const client = track(clientFor(replaced ?? primary, { fallback: { ...fallbackOn(fallback), timeout: 10_000 }, ...options }));
        const events = record(client);
        if (scenario.probeFirst) await client.checkPrimary();
        let outcome = '';
        for (let i = 0; i < (scenario.calls ?? 1); i++) {
          // No promise may hang: a cell that takes longer than this fails.
          const guard = new Promise<never>((_, reject) => setTimeout(() => reject(new Error('cell hung')), 8000).unref());
          outcome = await Promise.race([call(client, kind, scenario).then(servedBy, describeError), guard]);
        }
        await new Promise((r) => setImmediate(r));
        const counted = (n: number, one: string, many: string) => (n ? [`${n} ${n > 1 ? many : one}`] : []);
        const eventsSeen = [
          ...counted(events.switched.length, 'switch', 'switches'),
          ...counted(events.retry.length, 'retry', 'retries'),
        ].join(', ');
        const cell = `${outcome} · P${replaced ? '-' : primary.count()} F${fallback.count()}${eventsSeen ? ` · ${eventsSeen}` : ''}`;
        results.set(`${scenario.fault}|${kind}`, cell);
        expect(unhandled).toEqual([]);
        expect(cell).toBe(expectedOf(scenario, kind));
      });
    }
  }

  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
    const table = render();
    console.log(`\nFault matrix (P/F: requests to the primary/fallback; - : nothing listening)\n${table}\n`);
    mkdirSync(new URL('../test-artifacts/', import.meta.url), { recursive: true });
    writeFileSync(new URL('../test-artifacts/fault-matrix.md', import.meta.url), `${table}\n`);
  });

  it('README.md "Failure semantics" shows this table', () => {
    const readmeURL = new URL('../README.md', import.meta.url);
    const readme = readFileSync(readmeURL, 'utf8');
    const start = '<!-- fault-matrix:start -->\n';
    const end = '\n<!-- fault-matrix:end -->';
    const table = render();
    const expectedTable = [
      `| Fault | ${KINDS.join(' | ')} |`,
      `|---|${KINDS.map(() => '---').join('|')}|`,
      ...SCENARIOS.map((s) => `| ${s.fault} | ${KINDS.map((k) => expectedOf(s, k)).join(' | ')} |`),
    ].join('\n');
    if (process.env.UPDATE_FAULT_MATRIX) {
      const before = readme.slice(0, readme.indexOf(start) + start.length);
      writeFileSync(readmeURL, before + expectedTable + readme.slice(readme.indexOf(end)));
    }
    // The cells above already compared each result with its expectation; this one keeps the docs in step.
    expect(readFileSync(readmeURL, 'utf8')).toContain(`${start}${expectedTable}${end}`);
    expect(table.includes('?') ? 'some cells did not run' : table).toBe(expectedTable);
  });
});
