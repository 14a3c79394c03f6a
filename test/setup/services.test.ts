/**
 * The global setup's check (services.ts), run for real in a child process with a controlled PATH and
 * environment: missing programs that cannot be installed stop the run with one line naming the
 * command; present ones never call the installers; missing ones are installed when it can.
 */
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const root = process.getuid?.() === 0;
const CHILD = `import { ensureServices } from './test/setup/services.ts';
try { ensureServices(); } catch (error) { console.error(error.message); process.exit(3); }`;

let dir = '';
/** A PATH with a fake apt-get only (no sudo, no redis-server). */
let aptOnly = '';
/** A PATH with nothing at all. */
let empty = '';
let calls = '';

function script(path: string, body: string): string {
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

/** Runs the check in a fresh Node with exactly `env`; as `nobody` when `asNobody` and this is root. */
function check(env: Record<string, string>, asNobody = false) {
  const full = { HOME: dir, ...env };
  const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', CHILD];
  const sudoless = asNobody && root; // runuser from this PATH; `env -i` then gives the child only `full`
  const vars = Object.entries(full).map(([k, v]) => `${k}=${v}`);
  const [command, ...args] = sudoless ? ['runuser', '-u', 'nobody', '--', '/usr/bin/env', '-i', ...vars, ...node] : node;
  const run = spawnSync(command!, args, { cwd: ROOT, encoding: 'utf8', env: sudoless ? process.env : full });
  if (run.error) throw run.error;
  return { status: run.status, stdout: run.stdout.trim(), stderr: run.stderr.trim() };
}

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'services-'));
  aptOnly = join(dir, 'apt');
  empty = join(dir, 'empty');
  // `nobody` must reach the fake apt-get.
  for (const d of [dir, aptOnly, empty]) {
    if (!existsSync(d)) mkdirSync(d);
    chmodSync(d, 0o755);
  }
  script(join(aptOnly, 'apt-get'), 'exit 1');
  calls = join(dir, 'calls.log');
  // Fake installers: record the call, then "install" (an empty executable where the check looks).
  for (const name of ['redis', 'chromium']) {
    const binary = join(dir, name === 'redis' ? 'redis-server' : 'chromium');
    script(join(dir, `install-${name}.sh`), `echo ${name} >> ${calls}; : > ${binary}; chmod +x ${binary}`);
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

const installers = () => ({
  INSTALL_REDIS_SCRIPT: join(dir, 'install-redis.sh'),
  INSTALL_CHROMIUM_SCRIPT: join(dir, 'install-chromium.sh'),
});

describe('test setup: redis-server and Chromium', () => {
  it('without root or sudo, stops with the sudo command to run', () => {
    const run = check({ PATH: aptOnly, CHROMIUM_PATH: process.execPath, ...installers() }, true);
    expect(run).toMatchObject({ status: 3, stderr: 'redis-server is missing: run  sudo bash scripts/install-redis.sh' });
    const both = check({ PATH: aptOnly, CHROMIUM_PATH: join(empty, 'chromium'), ...installers() }, true);
    expect(both.stderr).toBe(
      `redis-server and Chromium (CHROMIUM_PATH=${empty}/chromium) are missing: run  sudo bash scripts/install-redis.sh && sudo bash scripts/install-chromium.sh`,
    );
    expect(existsSync(calls)).toBe(false);
  });

  it('without apt-get, stops with one line saying what to install', () => {
    const run = check({ PATH: empty, REDIS_SERVER: process.execPath, CHROMIUM_PATH: join(empty, 'chromium'), ...installers() });
    expect(run).toMatchObject({
      status: 3,
      stderr: `Chromium (CHROMIUM_PATH=${empty}/chromium) is missing and there is no apt-get here to run scripts/install-chromium.sh: install Chromium and set CHROMIUM_PATH to it`,
    });
    expect(existsSync(calls)).toBe(false);
  });

  it('with both present, calls no installer and prints nothing', () => {
    const run = check({
      PATH: `${aptOnly}${delimiter}${process.env.PATH}`,
      REDIS_SERVER: process.execPath,
      CHROMIUM_PATH: process.execPath,
      ...installers(),
    });
    expect(run).toEqual({ status: 0, stdout: '', stderr: '' });
    expect(existsSync(calls)).toBe(false);
  });

  it.runIf(root)('as root with apt-get, runs the installers of the missing ones, saying so first', () => {
    const env = {
      PATH: `${aptOnly}${delimiter}${process.env.PATH}`,
      REDIS_SERVER: join(dir, 'redis-server'),
      CHROMIUM_PATH: join(dir, 'chromium'),
    };
    const run = check({ ...env, ...installers() });
    expect(run.status).toBe(0);
    expect(run.stdout.split('\n')).toEqual([
      'test setup: redis-server is missing (test/redis/ and test/readme.test.ts need it): installing it with scripts/install-redis.sh (apt-get, first run only)',
      'test setup: Chromium is missing (test/status-page.e2e.test.ts needs it): installing it with scripts/install-chromium.sh (apt-get, first run only)',
    ]);
    expect(readFileSync(calls, 'utf8')).toBe('redis\nchromium\n');
    const failing = check({
      ...env,
      REDIS_SERVER: join(empty, 'redis-server'),
      INSTALL_REDIS_SCRIPT: script(join(dir, 'fail.sh'), 'exit 7'),
    });
    expect(failing).toMatchObject({ status: 3, stderr: 'scripts/install-redis.sh failed (exit 7): see its output above' });
  });
});
