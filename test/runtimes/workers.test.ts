/**
 * The PACKED package on Cloudflare Workers: workerd (through miniflare), without `nodejs_compat`.
 * The worker fixtures are staged into .cache/runtimes/workers/ (support.ts) and bundled there as
 * wrangler bundles (esbuild, platform `browser`, conditions workerd/worker/browser, ESM), so that
 * `resilient-openai` and `openai` resolve from .cache/runtimes/node_modules: the installed tarball.
 * The upstreams' URLs are compiled in with `define`, as a Worker's config would be. Outbound fetch
 * from workerd to 127.0.0.1 needs no miniflare option.
 *
 *   npm run build && bash scripts/runtimes/install.sh
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import {
  expectFailedOver,
  expectQuietModuleScope,
  requireFromRuntimes,
  runtimesDir,
  stageFixtures,
  startUpstreams,
  type Upstreams,
  expectScenarioResult,
  type Outcome,
} from './support.js';

// Recent, and not after the workerd that miniflare ships (it refuses dates from its future).
const COMPATIBILITY_DATE = '2026-07-01';
const FIXTURES = ['worker.js', 'worker-watch.js', 'worker-recovery.js', 'worker-start-at-global-scope.js', 'watch.js', 'scenario.js'];

// The packages come from .cache/runtimes: typed here with what this file uses of them.
interface Esbuild {
  build(options: Record<string, unknown>): Promise<{
    outputFiles: { text: string }[];
    metafile: { inputs: Record<string, unknown>; outputs: Record<string, { imports: { path: string }[] }> };
  }>;
}
interface WorkerFetcher {
  scheduled(options?: { cron?: string; scheduledTime?: Date }): Promise<{ outcome: string; noRetry: boolean }>;
}
interface Miniflare {
  readonly ready: Promise<URL>;
  dispatchFetch(url: string, init?: RequestInit): Promise<Response>;
  getWorker(): Promise<WorkerFetcher>;
  dispose(): Promise<void>;
}
type MiniflareClass = new (options: Record<string, unknown>) => Miniflare;

let runtimes: string;
let staged: string;
let esbuild: Esbuild;
let MiniflareCtor: MiniflareClass;
let versions = '';

beforeAll(() => {
  // Throws, failing every test with what to run, when .cache/runtimes is missing or stale.
  runtimes = runtimesDir();
  staged = stageFixtures('workers', FIXTURES);
  esbuild = requireFromRuntimes('esbuild') as Esbuild;
  MiniflareCtor = (requireFromRuntimes('miniflare') as { Miniflare: MiniflareClass }).Miniflare;
  const version = (name: string) =>
    (JSON.parse(readFileSync(join(runtimes, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
  versions = ['miniflare', 'workerd', 'esbuild', 'openai', 'resilient-openai'].map((n) => `${n} ${version(n)}`).join(', ');
  console.log(`Workers test on ${versions}, compatibility date ${COMPATIBILITY_DATE}, no compatibility flags`);
});

interface Bundle {
  code: string;
  /** The files bundled, relative to .cache/runtimes. */
  inputs: string[];
  /** What the bundle still imports at run time (a Node built-in would be one). */
  imports: string[];
}

/** Bundles a staged worker entry as wrangler does, with `globalThis.RUNTIME_TEST_CONFIG` compiled in. */
async function bundleWorker(entry: string, config: Record<string, unknown>): Promise<Bundle> {
  const result = await esbuild.build({
    entryPoints: [join(staged, entry)],
    absWorkingDir: runtimes,
    bundle: true,
    write: false,
    metafile: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    define: { 'globalThis.RUNTIME_TEST_CONFIG': JSON.stringify(config) },
    logLevel: 'silent',
  });
  const output = Object.values(result.metafile.outputs)[0];
  return {
    code: result.outputFiles[0]!.text,
    inputs: Object.keys(result.metafile.inputs),
    imports: (output?.imports ?? []).map((i) => i.path),
  };
}

interface Running {
  mf: Miniflare;
  /** What workerd printed, for failure messages. */
  stderr: string[];
}
const running: Miniflare[] = [];
let upstreams: Upstreams | undefined;

afterEach(async () => {
  await Promise.all(running.splice(0).map((mf) => mf.dispose().catch(() => {})));
  await upstreams?.close();
  upstreams = undefined;
});

/** A primary answering 502 to everything and a healthy fallback, closed after the test. */
async function upstreamPair(): Promise<Upstreams> {
  upstreams = await startUpstreams();
  return upstreams;
}

/** Starts workerd on a bundle: ES modules, a recent compatibility date and NO compatibility flag (no nodejs_compat). */
function startWorker(code: string): Running {
  const stderr: string[] = [];
  const mf = new MiniflareCtor({
    modules: true,
    script: code,
    compatibilityDate: COMPATIBILITY_DATE,
    compatibilityFlags: [],
    handleRuntimeStdio(stdout: Readable, err: Readable) {
      stdout.resume();
      err.on('data', (chunk: Buffer) => stderr.push(String(chunk)));
    },
  });
  running.push(mf);
  return { mf, stderr };
}

async function getJSON<T>(w: Running, path: string): Promise<T> {
  const response = await w.mf.dispatchFetch(`http://worker.test${path}`);
  const text = await response.text();
  try {
    return JSON.parse(text) as T;
  } catch {
    throw new Error(`worker answered ${response.status}: ${text}\nworkerd stderr:\n${w.stderr.join('')}`);
  }
}

describe('Cloudflare Workers (workerd via miniflare, no nodejs_compat): the packed package', () => {
  it('bundles without Node built-ins, builds its client at global scope, and fails over: the scenario gives EXPECTED', async () => {
    const u = await upstreamPair();
    const bundle = await bundleWorker('worker.js', u.config);
    // esbuild for the browser platform refuses a Node built-in (nothing is external): the bundle has none,
    // and the library in it is the packed one, from the tarball's dist/.
    expect(bundle.imports).toEqual([]);
    expect(bundle.inputs).toContain('node_modules/resilient-openai/dist/index.js');
    expect(bundle.inputs.filter((i) => !i.startsWith('node_modules/') && !i.startsWith('workers/') && !i.startsWith('<define:'))).toEqual(
      [],
    );

    const worker = startWorker(bundle.code);
    // The module loaded: its global scope, which built the client, threw nothing ("Disallowed
    // operation called within global scope" would reject `ready`).
    await worker.mf.ready;
    const reply = await getJSON<Outcome>(worker, '/');
    expect(reply.expected).toBeTypeOf('object');
    expectScenarioResult(reply);
    // What workerd does not refuse at global scope (a fetch, Math.random) did not happen either.
    expectQuietModuleScope(reply);

    // The fallback served both calls (the JSON one and the stream), with its own key, sent from workerd.
    expectFailedOver(u);
    for (const request of u.fallback.requests) expect(request.headers['x-stainless-runtime']).not.toBe('node');
    expect(worker.stderr.join('')).not.toMatch(/Disallowed operation|Uncaught/);
  });

  it('the global-scope check is live: a client STARTED at module scope is refused (the control)', async () => {
    const { primary, fallback, config } = await upstreamPair();
    const bundle = await bundleWorker('worker-start-at-global-scope.js', config);
    const worker = startWorker(bundle.code);
    const failure = await worker.mf.ready.then(
      () => new Error('workerd started a worker that sets a timer at global scope'),
      (error: unknown) => error,
    );
    expect(`${String(failure)}\n${worker.stderr.join('')}`).toMatch(/Disallowed operation called within global scope/);
    expect(primary.count() + fallback.count()).toBe(0);
  });

  describe('back to the primary where no timer outlives its request', () => {
    it('a scheduled handler (Cron Trigger) calling checkPrimary() twice brings traffic back', async () => {
      const { primary, fallback, config } = await upstreamPair();
      // A cooldown no test waits for: only the probes can bring the primary back.
      const bundle = await bundleWorker('worker-recovery.js', { ...config, cooldownMs: 600_000 });
      const worker = startWorker(bundle.code);
      type State = { ok: boolean; error?: string; content?: string; activeEndpoint: string; primaryState: string; probes: boolean[] };
      type Switch = { from: string; to: string; reason: string };

      const down = await getJSON<State>(worker, '/call');
      expect(down.error).toBeUndefined();
      expect(down).toMatchObject({ content: 'hello from fallback', activeEndpoint: 'fallback', primaryState: 'open' });

      const cron = await worker.mf.getWorker();
      // While the primary still fails, the probes say so and traffic stays on the fallback.
      expect(await cron.scheduled({ cron: '* * * * *' })).toMatchObject({ outcome: 'ok' });
      expect(await getJSON<State>(worker, '/state')).toMatchObject({ activeEndpoint: 'fallback', probes: [false, false] });

      primary.setFault(null);
      expect(await cron.scheduled({ cron: '* * * * *' })).toMatchObject({ outcome: 'ok' });
      const back = await getJSON<State & { switched: Switch[] }>(worker, '/state');
      expect(back).toMatchObject({ activeEndpoint: 'primary', primaryState: 'closed', probes: [false, false, true, true] });
      expect(back.switched.at(-1)).toEqual({ from: 'fallback', to: 'primary', reason: 'recovered' });
      expect(primary.count('/models')).toBe(4);

      const servedBefore = primary.count('/chat/completions');
      const fallbackBefore = fallback.count('/chat/completions');
      expect(await getJSON<State>(worker, '/call')).toMatchObject({ content: 'hello from primary', activeEndpoint: 'primary' });
      expect(primary.count('/chat/completions')).toBe(servedBefore + 1);
      expect(fallback.count('/chat/completions')).toBe(fallbackBefore);
      expect(worker.stderr.join('')).not.toMatch(/Uncaught|different request/);
    });

    it('without any probe, calls after breaker.cooldownMs are half-open trials that bring traffic back', async () => {
      const { primary, config } = await upstreamPair();
      const bundle = await bundleWorker('worker-recovery.js', { ...config, cooldownMs: 300 });
      const worker = startWorker(bundle.code);
      type Call = {
        ok: boolean;
        error?: string;
        content: string;
        activeEndpoint: string;
        switched: { from: string; to: string; reason: string }[];
      };

      const down = await getJSON<Call>(worker, '/call');
      expect(down.error).toBeUndefined();
      expect(down).toMatchObject({ content: 'hello from fallback', activeEndpoint: 'fallback' });
      primary.setFault(null);

      // Ordinary calls, one request each, until traffic is back on the primary (bounded; real time).
      const calls: Call[] = [];
      const deadline = Date.now() + 10_000;
      while (calls.at(-1)?.activeEndpoint !== 'primary') {
        if (Date.now() > deadline)
          throw new Error(`traffic not back on the primary after 10 s (${calls.length} calls, last: ${JSON.stringify(calls.at(-1))})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
        const call = await getJSON<Call>(worker, '/call');
        expect(call.error).toBeUndefined();
        calls.push(call);
      }
      // Before the cooldown the fallback answers; then the first trial on the primary (half-open,
      // traffic still on the fallback), then the second, which closes the breaker and switches back.
      const shape = calls.map((c) => `${c.content.replace('hello from ', '')}@${c.activeEndpoint}`);
      expect(shape.slice(-2)).toEqual(['primary@fallback', 'primary@primary']);
      expect(shape.slice(0, -2).every((s) => s === 'fallback@fallback')).toBe(true);
      expect(calls.at(-1)!.switched.at(-1)).toEqual({ from: 'fallback', to: 'primary', reason: 'recovered' });
      // No probe was involved: healthCheck is false and nothing triggered `scheduled`.
      expect(primary.count('/models')).toBe(0);
      expect(worker.stderr.join('')).not.toMatch(/Uncaught|different request/);
    });
  });
});
