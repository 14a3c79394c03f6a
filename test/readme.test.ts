import { execFile, spawnSync } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisServer, type RedisServer } from './support/redis-server.js';
import { startUpstream, type Upstream } from './support/upstream.js';

// The README is the contract: every ```ts block in it is type-checked and run, against a local
// upstream named by the same environment variables a user would set.
const root = fileURLToPath(new URL('..', import.meta.url));
// One folder per run: runs side by side in one tree (another engineer's, CI's) never delete each other's files.
const parent = fileURLToPath(new URL('./.readme/', import.meta.url));
const dir = `${parent}run-${process.pid}/`;
const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const blocks = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
const files = blocks.map((_, i) => `${dir}snippet-${i + 1}.ts`);

let primary: Upstream;
let redis: RedisServer;
beforeAll(async () => {
  primary = await startUpstream({ name: 'proxy' });
  // The "Running many instances" snippet talks to a real Redis, as a user's would.
  redis = await redisServer();
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  blocks.forEach((code, i) => writeFileSync(files[i]!, code.replaceAll("from 'resilient-openai'", "from '../../../src/index.js'")));
  // What a user's project would use: strict, but without this repo's extra index checks.
  writeFileSync(
    `${dir}tsconfig.json`,
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        strict: true,
        skipLibCheck: true,
        noEmit: true,
        types: ['node'],
        lib: ['ES2022', 'DOM', 'ESNext.Disposable'],
      },
      include: ['*.ts'],
    }),
  );
});
afterAll(async () => {
  await primary.close();
  await redis.close();
  rmSync(dir, { recursive: true, force: true });
  try {
    rmdirSync(parent);
  } catch {
    // Another run's folder is still in it.
  }
});

describe('README snippets', () => {
  it('there are snippets to check', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
  });

  it('type-check', () => {
    const tsc = spawnSync(process.execPath, [`${root}node_modules/typescript/bin/tsc`, '-p', `${dir}tsconfig.json`], {
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);
    // tsc over every snippet and the host libraries' types: seconds, more on a loaded machine.
  }, 60_000);

  // The AI SDK and LangChain want Node 22: their snippets are type-checked everywhere, run on the Node 22 leg.
  const nodeMajor = Number(process.versions.node.split('.')[0]);
  blocks.forEach((code, i) => {
    const needs22 = /from '(ai|@ai-sdk\/openai|@langchain\/openai)'/.test(code);
    it.skipIf(needs22 && nodeMajor < 22)(
      `snippet ${i + 1} runs and exits by itself: ${code
        .split('\n')
        .find((l) => l && !l.startsWith('import'))
        ?.slice(0, 60)}`,
      async () => {
        const before = primary.count();
        // Asynchronous: the upstream lives in this process and must keep answering.
        const run = await promisify(execFile)(process.execPath, ['--import', 'tsx', files[i]!], {
          encoding: 'utf8',
          timeout: 20_000,
          cwd: root,
          env: {
            ...process.env,
            OPENAI_BASE_URL_PRO: primary.url,
            OPENAI_API_KEY_PRO: 'sk-readme-proxy-123456',
            OPENAI_API_KEY: 'sk-readme-official-123456',
            AZURE_OPENAI_API_KEY: 'azure-readme-123456',
          },
        });
        expect(run.stderr).toBe('');
        // Nothing went to the official API: the only upstream reached is the local one.
        if (code.includes('chat.completions.create')) expect(primary.count()).toBeGreaterThan(before);
        if (code.includes('/no-such-endpoint')) expect(run.stdout).toContain('not found 404\nprimary 404');
        if (code.includes('createRedisCoordination')) expect(run.stdout).toContain('redis');
      },
    );
  });
});
