/** The installed openai package: its directory and version (`openai/package.json` is not exported). */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

function openaiDir(): string {
  let dir = dirname(createRequire(import.meta.url).resolve('openai'));
  for (;;) {
    try {
      if (JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name === 'openai') return dir;
    } catch {
      // not the package root yet
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('openai package directory not found');
    dir = up;
  }
}

export const OPENAI_DIR = openaiDir();
export const OPENAI_VERSION: string = JSON.parse(readFileSync(join(OPENAI_DIR, 'package.json'), 'utf8')).version;
