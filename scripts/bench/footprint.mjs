// 7. Footprint: time to import the built package against `openai` alone (fresh processes, rounds
// alternated), and the size of what users install.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { median } from './lib.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));

function importMs(specifier) {
  const script = `const t = performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now() - t);`;
  return Number(execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' }).trim());
}

export function footprint({ rounds = 15 } = {}) {
  const ours = [];
  const theirs = [];
  const dist = new URL('../../dist/index.js', import.meta.url).href;
  importMs('openai');
  for (let i = 0; i < rounds; i++) {
    theirs.push(importMs('openai'));
    ours.push(importMs(dist));
  }
  const esm = readFileSync(new URL('../../dist/index.js', import.meta.url));
  const cjs = readFileSync(new URL('../../dist/index.cjs', import.meta.url));
  return {
    importOpenAIMs: median(theirs),
    importOursMs: median(ours),
    esmBytes: esm.length,
    esmGzipBytes: gzipSync(esm).length,
    cjsBytes: cjs.length,
  };
}
