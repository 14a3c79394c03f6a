/**
 * The packed package on Bun: test/runtimes/fixtures/cli.js run by the `bun` binary from
 * .cache/runtimes (scripts/runtimes/install.sh), importing `resilient-openai` and `openai` from
 * that project's node_modules. A client built at module scope fails over from a 502 primary to the
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

describe('Bun', () => {
  it('runs the scenario on the packed package: failover, stream, events, quiet module scope', async () => {
    const dir = stageFixtures('bun', ['cli.js', 'main.js', 'watch.js', 'scenario.js']);
    const bun = join(runtimesDir(), 'node_modules/.bin/bun');
    const started = performance.now();
    // --no-install: resolve from node_modules only, never auto-install from the registry.
    const out: any = await runJSON(bun, ['--no-install', 'cli.js'], {
      cwd: dir,
      env: { RUNTIME_TEST_CONFIG: JSON.stringify(upstreams.config) },
    });
    const sdk = upstreams.fallback.requests[0]?.headers;
    console.log(
      `bun ${out.runtime.version}: scenario in ${Math.round(performance.now() - started)} ms (process start included); SDK saw ${String(sdk?.['x-stainless-runtime'])} ${String(sdk?.['x-stainless-runtime-version'])}`,
    );

    expect(out.runtime.name).toBe('bun');
    expect(out.resolved['resilient-openai']).toBe(`file://${runtimesDir()}/node_modules/resilient-openai/dist/index.js`);
    expect(out.resolved.openai).toBe(`file://${runtimesDir()}/node_modules/openai/index.mjs`);
    expectScenarioResult(out);
    expectQuietModuleScope(out);
    expectFailedOver(upstreams);
  });
});
