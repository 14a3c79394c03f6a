/**
 * The packed package on Deno: test/runtimes/fixtures/cli.js run by the `deno` binary from
 * .cache/runtimes (scripts/runtimes/install.sh) with its npm support on that project's
 * node_modules (`--node-modules-dir=manual`, `--cached-only`: nothing downloaded), allowed no
 * network but 127.0.0.1. A client built at module scope fails over from a 502 primary to the
 * fallback for a JSON call and a stream, and its import set no timer, drew no random value and
 * fetched nothing.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectFailedOver,
  expectQuietModuleScope,
  expectScenarioResult,
  runJSON,
  runtimesDir,
  stageFixtures,
  startUpstreams,
  type Upstreams,
} from './support.js';

let upstreams: Upstreams;
beforeAll(async () => (upstreams = await startUpstreams()));
afterAll(() => upstreams.close());

describe('Deno', () => {
  it('runs the scenario on the packed package: failover, stream, events, quiet module scope', async () => {
    const dir = stageFixtures('deno', ['cli.js', 'main.js', 'watch.js', 'scenario.js']);
    const deno = join(runtimesDir(), 'node_modules/.bin/deno');
    // --allow-env for all variables, not just RUNTIME_TEST_CONFIG: the `debug` package (a dependency
    // of the library) lists the whole environment when it is imported (debug/src/node.js,
    // `Object.keys(process.env)`), which Deno refuses otherwise.
    const args = ['run', '--node-modules-dir=manual', '--cached-only', '--no-prompt', '--allow-net=127.0.0.1', '--allow-env', 'cli.js'];
    const env = { RUNTIME_TEST_CONFIG: JSON.stringify(upstreams.config), DENO_DIR: join(dir, '.deno-dir'), DENO_NO_UPDATE_CHECK: '1' };
    const started = performance.now();
    const out: any = await runJSON(deno, args, { cwd: dir, env });
    const sdk = upstreams.fallback.requests[0]?.headers;
    console.log(
      `deno ${out.runtime.version}: scenario in ${Math.round(performance.now() - started)} ms (process start included); SDK saw ${String(sdk?.['x-stainless-runtime'])} ${String(sdk?.['x-stainless-runtime-version'])}`,
    );

    expect(out.runtime.name).toBe('deno');
    expect(out.resolved['resilient-openai']).toBe(`file://${runtimesDir()}/node_modules/resilient-openai/dist/index.js`);
    expect(out.resolved.openai).toBe(`file://${runtimesDir()}/node_modules/openai/index.mjs`);
    expectScenarioResult(out);
    expectQuietModuleScope(out);
    expectFailedOver(upstreams);
    // The SDK saw Deno's globals.
    expect(sdk?.['x-stainless-runtime']).toBe('deno');
  });
});
