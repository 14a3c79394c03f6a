/**
 * The programs the suite needs besides Node, checked once per `vitest run` (globalSetup in
 * vitest.config.ts): `redis-server` for test/redis/ and test/readme.test.ts, Chromium for
 * test/status-page.e2e.test.ts. A missing one is installed through its script
 * (scripts/install-redis.sh, scripts/install-chromium.sh) when this machine can: apt-get, and root
 * or passwordless sudo. Otherwise the run stops with one line naming the command. Never a skip.
 *
 * `REDIS_SERVER` (command or path) and `CHROMIUM_PATH` point the check, like the tests, at other
 * binaries; `INSTALL_REDIS_SCRIPT` and `INSTALL_CHROMIUM_SCRIPT` replace the installers
 * (test/setup/services.test.ts).
 */
import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Service {
  name: string;
  /** What the check looks for: a command on the PATH, or a path. */
  binary: string;
  /** The variable that overrides `binary`, and whether it is set. */
  variable: 'REDIS_SERVER' | 'CHROMIUM_PATH';
  overridden: boolean;
  script: string;
  installer: string;
  /** Who needs it, for the line printed before installing. */
  usedBy: string;
}

function servicesOf(env: NodeJS.ProcessEnv): Service[] {
  return [
    {
      name: 'redis-server',
      binary: env.REDIS_SERVER ?? 'redis-server',
      variable: 'REDIS_SERVER',
      overridden: env.REDIS_SERVER !== undefined,
      script: 'scripts/install-redis.sh',
      installer: env.INSTALL_REDIS_SCRIPT ?? join(ROOT, 'scripts/install-redis.sh'),
      usedBy: 'test/redis/ and test/readme.test.ts need it',
    },
    {
      name: 'Chromium',
      binary: env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      variable: 'CHROMIUM_PATH',
      overridden: env.CHROMIUM_PATH !== undefined,
      script: 'scripts/install-chromium.sh',
      installer: env.INSTALL_CHROMIUM_SCRIPT ?? join(ROOT, 'scripts/install-chromium.sh'),
      usedBy: 'test/status-page.e2e.test.ts needs it',
    },
  ];
}

function executable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** A command with a slash is a path; otherwise it is looked up on the PATH (no process started). */
function found(command: string, env: NodeJS.ProcessEnv): boolean {
  if (command.includes('/')) return executable(command);
  return (env.PATH ?? '').split(delimiter).some((dir) => dir !== '' && executable(join(dir, command)));
}

/** Whether the scripts can install here: apt-get, and root or sudo that asks for no password. */
function canInstall(env: NodeJS.ProcessEnv): boolean {
  if (!found('apt-get', env)) return false;
  if (process.getuid?.() === 0) return true;
  return found('sudo', env) && spawnSync('sudo', ['-n', 'true'], { env, stdio: 'ignore' }).status === 0;
}

const names = (missing: Service[]) => missing.map((s) => (s.overridden ? `${s.name} (${s.variable}=${s.binary})` : s.name)).join(' and ');
const isAre = (missing: Service[]) => `${names(missing)} ${missing.length > 1 ? 'are' : 'is'}`;

/**
 * Returns when every program is there, installing the missing ones first when it can; throws an
 * Error with a one-line message naming the command to run otherwise.
 */
export function ensureServices(env: NodeJS.ProcessEnv = process.env): void {
  const missing = servicesOf(env).filter((s) => !found(s.binary, env));
  if (missing.length === 0) return;
  if (!found('apt-get', env)) {
    const each = missing.map((s) => `install ${s.name} and set ${s.variable} to it`).join(', ');
    throw new Error(`${isAre(missing)} missing and there is no apt-get here to run ${missing.map((s) => s.script).join(' and ')}: ${each}`);
  }
  if (!canInstall(env)) {
    throw new Error(`${isAre(missing)} missing: run  ${missing.map((s) => `sudo bash ${s.script}`).join(' && ')}`);
  }
  for (const s of missing) {
    console.log(`test setup: ${s.name} is missing (${s.usedBy}): installing it with ${s.script} (apt-get, first run only)`);
    const run = spawnSync('bash', [s.installer], { env, stdio: 'inherit' });
    if (run.status !== 0) {
      throw new Error(`${s.script} failed (${run.error?.message ?? `exit ${run.status ?? run.signal}`}): see its output above`);
    }
    if (!found(s.binary, env)) {
      throw new Error(`${isAre([s])} still missing after ${s.script}: ${s.overridden ? `unset ${s.variable}` : 'is it on the PATH?'}`);
    }
  }
}

/** Vitest globalSetup: runs once per `vitest run`, before any test file. */
export default function setup(): void {
  try {
    ensureServices();
  } catch (error) {
    // The line alone: vitest would print a code frame and its own stack under it.
    if (error instanceof Error) error.stack = `${error.name}: ${error.message}`;
    throw error;
  }
}
