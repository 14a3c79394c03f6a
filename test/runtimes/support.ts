/**
 * Shared by the runtime tests (test/runtimes/*.test.ts, run by scripts/test-runtimes.sh): the
 * packed package installed in `.cache/runtimes/` (scripts/runtimes/install.sh), the fixtures staged
 * there so that `resilient-openai` and `openai` resolve from its node_modules as in a user's app, the
 * two fake upstreams of test/runtimes/fixtures/scenario.js, a child process whose one JSON line is
 * the outcome (test/runtimes/fixtures/main.js's, for the entries there), and the checks every
 * runtime makes.
 *
 *   runtimesDir()              .cache/runtimes, or an Error saying to run the install script
 *   requireFromRuntimes(id)    a package installed there (esbuild, @edge-runtime/vm, miniflare, ...)
 *   stageFixtures(name, files) fixtures copied into .cache/runtimes/<name>/; returns that directory
 *   startUpstreams()           a primary answering 502 to everything and a healthy fallback
 *   runJSON(cmd, args, opts)   runs a child, resolves to its stdout's JSON line
 *   expectScenarioResult(o)    the scenario's result (main.js's outcome `o`) is its EXPECTED
 *   expectFailedOver(u)        the primary got the calls first (502), the fallback served both
 *   expectQuietModuleScope(o)  no timer, random value or fetch while the scenario was imported
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { startUpstream, type Upstream } from '../support/upstream.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const FIXTURES = join(ROOT, 'test/runtimes/fixtures');
const RUNTIMES = join(ROOT, '.cache/runtimes');

/**
 * The consumer project of scripts/runtimes/install.sh: `.cache/runtimes`, with the packed package
 * (the same build as dist/), openai and the runtimes in its node_modules. Throws when it is missing
 * or holds another build than dist/.
 */
export function runtimesDir(): string {
  const installed = join(RUNTIMES, 'node_modules/resilient-openai/dist/index.js');
  if (!existsSync(installed)) {
    throw new Error(
      `${installed} is missing: run bash scripts/runtimes/install.sh (after npm run build), or bash scripts/test-runtimes.sh`,
    );
  }
  const built = join(ROOT, 'dist/index.js');
  if (existsSync(built) && !readFileSync(built).equals(readFileSync(installed))) {
    throw new Error(`.cache/runtimes holds another build than dist/: run bash scripts/runtimes/install.sh again`);
  }
  return RUNTIMES;
}

/** A package installed in `.cache/runtimes/node_modules` (CommonJS `require`, untyped). */
export function requireFromRuntimes(id: string): any {
  return createRequire(join(runtimesDir(), 'package.json'))(id);
}

/**
 * Copies `files` (names in test/runtimes/fixtures/) into a fresh `.cache/runtimes/<name>/` and
 * returns that directory: modules run or bundled from there resolve bare specifiers from
 * `.cache/runtimes/node_modules`, and `.js` files are ES modules (its package.json says so).
 * One `name` per test file, so that files running in parallel do not share a directory.
 */
export function stageFixtures(name: string, files: string[]): string {
  const dir = join(runtimesDir(), name);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  for (const file of files) copyFileSync(join(FIXTURES, file), join(dir, file));
  return dir;
}

/** The scenario's two upstreams; `config` is what `globalThis.RUNTIME_TEST_CONFIG` must hold. */
export interface Upstreams {
  primary: Upstream;
  fallback: Upstream;
  config: { primaryURL: string; fallbackURL: string };
  close(): Promise<void>;
}

/** Starts the primary (every request answered 502 Bad Gateway) and a healthy fallback, on 127.0.0.1. */
export async function startUpstreams(): Promise<Upstreams> {
  const [primary, fallback] = await Promise.all([startUpstream({ name: 'primary' }), startUpstream({ name: 'fallback' })]);
  primary.setFault({ kind: 'bad-gateway' });
  return {
    primary,
    fallback,
    config: { primaryURL: primary.url, fallbackURL: fallback.url },
    close: async () => void (await Promise.all([primary.close(), fallback.close()])),
  };
}

/** Options of {@link runJSON}. */
export interface RunOptions {
  cwd?: string;
  /** Added to a minimal environment (PATH, HOME, TMPDIR, LANG; not the test's own). */
  env?: Record<string, string>;
  /** Killed (SIGKILL) after this long; 20 s unless told. */
  timeoutMs?: number;
}

/**
 * Runs `command` and resolves to its stdout parsed as JSON: the child prints exactly one JSON line
 * (its last non-empty line is parsed; anything before it is an error too). It must exit 0 by itself
 * within the timeout: a runtime kept alive by a timer the library left running fails here. Rejects
 * with the command, exit status, stdout and stderr in the message.
 */
export function runJSON<T = unknown>(command: string, args: string[], options: RunOptions = {}): Promise<T> {
  const timeoutMs = options.timeoutMs ?? 20_000;
  const base = Object.fromEntries(['PATH', 'HOME', 'TMPDIR', 'LANG'].flatMap((k) => (process.env[k] ? [[k, process.env[k]]] : [])));
  const child = spawn(command, args, {
    cwd: options.cwd,
    env: { ...base, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (s: string) => (stdout += s));
  child.stderr.setEncoding('utf8').on('data', (s: string) => (stderr += s));
  return new Promise<T>((resolve, reject) => {
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    const fail = (why: string) =>
      reject(
        new Error(`${[command, ...args].join(' ')}: ${why}\n--- stdout:\n${stdout || '(empty)'}\n--- stderr:\n${stderr || '(empty)'}`),
      );
    child.on('error', (error) => {
      clearTimeout(timer);
      fail(`could not start: ${error.message}`);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut)
        return fail(`still running after ${timeoutMs} ms (killed)${stdout.trim() ? ': it printed its result but did not exit' : ''}`);
      if (code !== 0) return fail(`exited with ${code ?? signal}`);
      const lines = stdout.split('\n').filter((line) => line.trim() !== '');
      if (lines.length !== 1) return fail(`printed ${lines.length} lines on stdout, not one JSON line`);
      try {
        resolve(JSON.parse(lines[0]!) as T);
      } catch (error) {
        fail(`stdout is not JSON: ${String(error)}`);
      }
    });
  });
}

/**
 * The scenario's calls reached the primary first, which answered 502 to each, and the fallback
 * served both (the JSON call and the stream) with its own key.
 */
export function expectFailedOver({ primary, fallback }: Upstreams): void {
  const chat = (u: Upstream) => u.requests.filter((r) => r.path.endsWith('/chat/completions'));
  expect(chat(primary).length, 'requests to the primary').toBeGreaterThan(0);
  expect(chat(primary).map((r) => r.fault)).toEqual(chat(primary).map(() => 'bad-gateway'));
  expect(chat(primary).map((r) => r.headers.authorization)).toEqual(chat(primary).map(() => 'Bearer sk-runtime-primary-SECRET'));
  expect(chat(fallback).map((r) => [r.headers.authorization, (r.json as { stream?: boolean }).stream ?? false])).toEqual([
    ['Bearer sk-runtime-fallback-SECRET', false],
    ['Bearer sk-runtime-fallback-SECRET', true],
  ]);
}

/** What test/runtimes/fixtures/main.js resolves to (each runtime's entry adds `runtime` and the like). */
export interface Outcome {
  /** What the scenario's `run()` resolved to, or `error` when it threw. */
  result?: unknown;
  error?: { message: string; stack: string };
  /** The scenario's `EXPECTED`, as that runtime evaluated it. */
  expected: unknown;
  /** Each watched global: the stack of every call while the scenario was imported; null: the runtime lacks it. */
  moduleScope: Record<string, string[] | null>;
  /** The same watcher's count of one deliberate call of each, on this runtime: proves it sees calls. */
  watcherCheck: Record<string, number | null>;
}

/** The scenario ran to its end (an error fails with its stack) and its result is its `EXPECTED`. */
export function expectScenarioResult(outcome: Outcome): void {
  expect(outcome.error, `the scenario threw:\n${outcome.error?.stack}`).toBeUndefined();
  expect(outcome.result).toEqual(outcome.expected);
}

/**
 * Nothing watched (test/runtimes/fixtures/watch.js: timers, fetch, random values) was called while
 * the scenario was imported, and so at the client's construction, on a watcher shown to see each
 * call on this runtime. A call fails with its stack (the library, the SDK or a dependency) in the message.
 */
export function expectQuietModuleScope({ moduleScope, watcherCheck }: Outcome): void {
  const names = ['setTimeout', 'setInterval', 'fetch', 'crypto.randomUUID', 'crypto.getRandomValues', 'Math.random'];
  expect(watcherCheck, 'the watcher missed a deliberate call (or the runtime lacks a global)').toEqual(
    Object.fromEntries(names.map((n) => [n, 1])),
  );
  const called = Object.entries(moduleScope).filter(([, stacks]) => stacks !== null && stacks.length > 0);
  const report = called.map(([name, stacks]) => `${name}: ${stacks!.length} call(s)\n${stacks!.join('\n--\n')}`).join('\n\n');
  expect(
    called.map(([name]) => name),
    `called while the scenario was imported:\n${report}`,
  ).toEqual([]);
  expect(Object.keys(moduleScope)).toEqual(names);
}
