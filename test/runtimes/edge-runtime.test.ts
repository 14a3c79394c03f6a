/**
 * The packed package on Vercel's Edge runtime: test/runtimes/fixtures/edge.js bundled by esbuild
 * (from .cache/runtimes, scripts/runtimes/install.sh) as Next.js bundles for the edge (conditions
 * edge-light, worker, browser; no Node built-in can be resolved), then evaluated in an EdgeVM of
 * @edge-runtime/vm (fixtures/edge-host.mjs, in a Node child process): the VM's own fetch, streams,
 * crypto and timers, no eval. A client built at module scope fails over from a 502 primary to the
 * fallback for a JSON call and a stream, and its import set no timer, drew no random value and
 * fetched nothing.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  expectFailedOver,
  expectQuietModuleScope,
  expectScenarioResult,
  requireFromRuntimes,
  runtimesDir,
  runJSON,
  stageFixtures,
  startUpstreams,
  type Upstreams,
} from './support.js';

let dir: string;
let metafile: { inputs: Record<string, unknown>; outputs: Record<string, { imports: { path: string; external?: boolean }[] }> };
let bundleMs: number;

beforeAll(async () => {
  dir = stageFixtures('edge-runtime', ['edge.js', 'edge-host.mjs', 'main.js', 'watch.js', 'scenario.js']);
  const esbuild = requireFromRuntimes('esbuild');
  const started = performance.now();
  // Fails (with esbuild's message naming the import and its importer) if anything needs a Node built-in.
  const built = await esbuild.build({
    absWorkingDir: dir,
    entryPoints: ['edge.js'],
    outfile: 'bundle.js',
    bundle: true,
    format: 'iife',
    platform: 'browser',
    conditions: ['edge-light', 'worker', 'browser'],
    target: 'es2022',
    metafile: true,
    logLevel: 'silent',
  });
  bundleMs = Math.round(performance.now() - started);
  metafile = built.metafile;
});

let upstreams: Upstreams;
beforeEach(async () => (upstreams = await startUpstreams()));
afterEach(() => upstreams.close());

/** Names the bundled module of each `bundle.js:<line>:<col>` frame in `text` (from esbuild's `// <path>` comments). */
function withModules(text: string): string {
  const lines = readFileSync(join(dir, 'bundle.js'), 'utf8').split('\n');
  const moduleAt = (line: number) =>
    lines
      .slice(0, line)
      .reverse()
      .map((l) => /^\s*\/\/ (\S+\.[cm]?js)$/.exec(l)?.[1])
      .find(Boolean);
  return text.replace(/bundle\.js:(\d+):(\d+)/g, (frame, line: string) => `${frame} [${moduleAt(Number(line)) ?? '?'}]`);
}

/** Runs the bundle in a fresh EdgeVM (`nextjs`: with the `process` Next.js gives the edge; `bare`: none); stacks name their modules. */
async function runEdge(variant: 'nextjs' | 'bare'): Promise<any> {
  const out: any = await runJSON(process.execPath, ['edge-host.mjs', 'bundle.js', variant], {
    cwd: dir,
    env: { RUNTIME_TEST_CONFIG: JSON.stringify(upstreams.config) },
  });
  const scope: Record<string, string[] | null> = out.moduleScope;
  for (const [name, stacks] of Object.entries(scope)) scope[name] = stacks && stacks.map(withModules);
  if (out.error) out.error.stack = withModules(out.error.stack);
  return out;
}

describe('Vercel Edge runtime (@edge-runtime/vm)', () => {
  it('bundles for the edge with no Node built-in: the packed package, and the browser build of `debug`', () => {
    const inputs = Object.keys(metafile.inputs);
    console.log(`edge bundle: ${inputs.length} modules in ${bundleMs} ms`);
    expect(inputs).toContain('../node_modules/resilient-openai/dist/index.js');
    expect(inputs).toContain('../node_modules/debug/src/browser.js');
    expect(inputs.filter((i) => !i.startsWith('../node_modules/')).sort()).toEqual(['edge.js', 'main.js', 'scenario.js', 'watch.js']);
    expect(Object.values(metafile.outputs).flatMap((o) => o.imports)).toEqual([]);
  });

  it('runs the scenario as Vercel does (EdgeVM, with the `process` of Next.js: env only): failover, stream, events, quiet module scope', async () => {
    const started = performance.now();
    const out = await runEdge('nextjs');
    const sdk = upstreams.fallback.requests[0]?.headers;
    console.log(
      `@edge-runtime/vm ${out.runtime.version} (primitives ${out.runtime.primitives}, EdgeRuntime=${out.runtime.EdgeRuntime}) on Node ${out.runtime.node}: ` +
        `scenario in ${Math.round(performance.now() - started)} ms (process start included); SDK saw ${String(sdk?.['x-stainless-runtime'])} ${String(sdk?.['x-stainless-runtime-version'])}`,
    );
    expect(out.runtime.EdgeRuntime).toBe('edge-runtime');
    expectScenarioResult(out);
    expectQuietModuleScope(out);
    expectFailedOver(upstreams);
    // The SDK saw the Edge runtime's globals.
    expect(sdk?.['x-stainless-runtime']).toBe('edge');
  });

  it('on a bare EdgeVM (no `process` at all) the package loads and builds its client quietly; a request fails only where the SDK reads process.version', async () => {
    const out = await runEdge('bare');
    expect(out.runtime.process).toBe('undefined');
    expectQuietModuleScope(out);
    const sdkMajor = Number(
      JSON.parse(readFileSync(join(runtimesDir(), 'node_modules/openai/package.json'), 'utf8')).version.split('.')[0],
    );
    if (sdkMajor >= 7) {
      // openai 7 no longer needs `process` there (openai/openai-node#2552): the whole scenario passes.
      expect(out.error).toBeUndefined();
      expectScenarioResult(out);
      expectFailedOver(upstreams);
      return;
    }
    // openai's platform headers read `globalThis.process.version` when `EdgeRuntime` is defined
    // (openai/internal/detect-platform.mjs, getPlatformProperties), before any fetch.
    const top = out.error.stack.split('\n')[1];
    console.log(`bare EdgeVM: the SDK fails before fetch: ${out.error.message}\n${top}`);
    expect(out.error.message).toBe("Cannot read properties of undefined (reading 'version')");
    expect(top).toMatch(
      /^\s+at getPlatformProperties \(bundle\.js:\d+:\d+ \[\.\.\/node_modules\/openai\/internal\/detect-platform\.mjs\]\)$/,
    );
    expect(upstreams.primary.count() + upstreams.fallback.count()).toBe(0);
  });
});
