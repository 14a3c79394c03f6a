/**
 * A real `redis-server` for tests (Debian's package: scripts/install-redis.sh): its own process on
 * a loopback port, no persistence, so a restart comes back empty. It can be stopped, frozen
 * (SIGSTOP) and thawed, and started again on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface RedisServer {
  readonly port: number;
  /** Its own directory (data, cluster and Sentinel config files). */
  readonly dir: string;
  /** `redis://127.0.0.1:PORT`. */
  readonly url: string;
  /** Whether a server process runs now (frozen or not). */
  readonly running: boolean;
  /** Starts the server (empty) and resolves once it answers. */
  start(): Promise<void>;
  /** Stops the server (SIGTERM, SIGKILL after 2 s): connections close, data is lost. */
  stop(): Promise<void>;
  /** SIGSTOP: connections stay open, nothing is answered. */
  freeze(): void;
  /** SIGCONT. */
  thaw(): void;
  /** Stops the server and starts an empty one on the same port. */
  restart(): Promise<void>;
  /** Stops the server and removes its directory. */
  close(): Promise<void>;
}

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of live) {
    try {
      child.kill('SIGCONT');
      child.kill('SIGKILL');
    } catch {
      // Gone already.
    }
  }
});

/** The server binary: `REDIS_SERVER` when set (another build or path), else `redis-server` from the PATH. */
const REDIS_SERVER = process.env.REDIS_SERVER ?? 'redis-server';

/** A loopback port where nothing listens (bound, read, closed). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Resolves once the server on the port answers, and is this process (INFO's process_id): not
 * another suite's redis-server that got the port first, while ours failed to bind it and exits.
 * Patient: a loaded machine may take a while.
 */
async function waitForServer(port: number, child: ChildProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${REDIS_SERVER} on port ${port} exited with code ${child.exitCode}`);
    const pid = await new Promise<number | undefined>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port });
      let reply = '';
      const done = (value: number | undefined) => {
        socket.destroy();
        resolve(value);
      };
      socket.setTimeout(1000, () => done(undefined));
      socket.once('error', () => done(undefined));
      socket.once('connect', () => socket.write('INFO server\r\n'));
      socket.on('data', (data) => {
        reply += data.toString();
        const match = /\r\nprocess_id:(\d+)\r\n/.exec(reply);
        if (match) done(Number(match[1]));
        else if (!reply.startsWith('$')) done(undefined); // an error (still loading, say)
      });
    });
    if (pid === child.pid) return;
    if (pid !== undefined) throw new Error(`port ${port} is taken by another redis-server (pid ${pid})`);
    if (Date.now() > deadline) throw new Error(`${REDIS_SERVER} on port ${port} did not answer within ${timeoutMs}ms`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * A redis-server on 127.0.0.1 and a free port (or `port`). `start: false` reserves the port only:
 * nothing listens there until `start()`.
 */
export async function redisServer(
  options: {
    port?: number;
    start?: boolean;
    /** More arguments (`--cluster-enabled yes`, `--replicaof ...`). */
    args?: string[];
    /** A config file of its own, written before each start (Sentinel rewrites its own). */
    config?: (dir: string) => { file: string; text: string; sentinel?: boolean };
  } = {},
): Promise<RedisServer> {
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'resilient-openai-redis-'));
  let child: ChildProcess | undefined;
  let frozen = false;

  const start = async () => {
    if (child) throw new Error('redis-server already running');
    const config = options.config?.(dir);
    if (config) writeFileSync(config.file, config.text);
    const proc = spawn(
      REDIS_SERVER,
      [
        ...(config ? [config.file, ...(config.sentinel ? ['--sentinel'] : [])] : []),
        '--port',
        String(port),
        '--bind',
        '127.0.0.1',
        '--save',
        '',
        '--appendonly',
        'no',
        '--dir',
        dir,
        '--daemonize',
        'no',
        '--protected-mode',
        'no',
        '--loglevel',
        'warning',
        ...(options.args ?? []),
      ],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    live.add(proc);
    proc.once('exit', () => live.delete(proc));
    child = proc;
    frozen = false;
    const missing = new Promise<never>((_, reject) =>
      proc.once('error', (error) => {
        child = undefined;
        reject(new Error(`cannot start ${REDIS_SERVER} (${error.message}): run scripts/install-redis.sh`));
      }),
    );
    await Promise.race([waitForServer(port, proc), missing]);
  };

  const stop = async () => {
    const proc = child;
    if (!proc) return;
    child = undefined;
    if (proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    if (frozen) proc.kill('SIGCONT');
    frozen = false;
    proc.kill('SIGTERM');
    const timer = setTimeout(() => proc.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  };

  const server: RedisServer = {
    port,
    dir,
    url: `redis://127.0.0.1:${port}`,
    get running() {
      return child !== undefined;
    },
    start,
    stop,
    freeze() {
      if (!child) throw new Error('redis-server is not running');
      child.kill('SIGSTOP');
      frozen = true;
    },
    thaw() {
      if (!child) throw new Error('redis-server is not running');
      child.kill('SIGCONT');
      frozen = false;
    },
    async restart() {
      await stop();
      await start();
    },
    async close() {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (options.start !== false) await start();
  return server;
}
