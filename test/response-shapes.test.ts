/**
 * Every call's response keeps one hidden class per kind (JSON, stream), checked by V8 itself in a
 * child process (test/fixtures/response-shapes.ts). A map per call costs a few µs of every call
 * and grows V8's map space: BENCHMARKS.md step 1b.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

describe('response shapes', () => {
  it('two calls of the same kind answer with responses of one hidden class', () => {
    const script = fileURLToPath(new URL('./fixtures/response-shapes.ts', import.meta.url));
    const result = spawnSync(process.execPath, ['--allow-natives-syntax', '--import', 'tsx', script], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    const shapes = JSON.parse(result.stdout.trim().split('\n').pop()!) as Record<string, boolean>;
    // The control: two objects of different shapes are told apart.
    expect(shapes).toEqual({ json: true, stream: true, control: false });
  });
});
