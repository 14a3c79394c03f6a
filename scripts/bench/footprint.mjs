// 7. Footprint: time to import the built package against `openai` alone, each in a fresh process,
// in alternating rounds with an A/A control (`openai` imported twice, in two processes of the same
// round); the import of the package once `openai` is loaded (its own cost, in one process, free of
// process-to-process noise); each runtime dependency alone, to see where the time goes; and the
// bytes (footprint-bundle.mjs).
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { bundleSizes } from './footprint-bundle.mjs';
import { alternate, noise, paired, spread } from './rounds.mjs';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dist = new URL('../../dist/index.js', import.meta.url).href;
const run = promisify(execFile);

/** ms to import `specifier` in a fresh process, after importing `first` (untimed) if given. */
async function importMs(specifier, first) {
  const pre = first ? `await import(${JSON.stringify(first)});` : '';
  const script = `${pre}const t = performance.now(); await import(${JSON.stringify(specifier)}); console.log(performance.now() - t);`;
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { cwd: root, encoding: 'utf8' });
  return Number(stdout.trim());
}

const IMPORTS = {
  openai: () => importMs('openai'),
  openaiAgain: () => importMs('openai'),
  ours: () => importMs(dist),
  oursAfterOpenai: () => importMs(dist, 'openai'),
  debug: () => importMs('debug'),
  eventemitter3: () => importMs('eventemitter3'),
  'p-retry': () => importMs('p-retry'),
};

export async function footprint({ rounds = 24 } = {}) {
  // Warm-up: the file system cache.
  for (const measure of Object.values(IMPORTS)) await measure();
  // One process at a time; no forced GC (each measure is a child process).
  const ms = await alternate(Object.keys(IMPORTS), rounds, (name) => IMPORTS[name](), { gc: false });
  const added = spread(paired(ms.ours, ms.openai, (o, p) => o - p));
  const aa = spread(paired(ms.openaiAgain, ms.openai, (q, p) => q - p));
  return {
    rounds,
    importOpenAIMs: spread(ms.openai).median,
    importOursMs: spread(ms.ours).median,
    importAddedMs: added.median,
    importAdded: added,
    importAA: aa,
    ...noise(added, aa, 0),
    importOursAfterOpenaiMs: spread(ms.oursAfterOpenai).median,
    importOursAfterOpenai: spread(ms.oursAfterOpenai),
    dependenciesMs: { debug: spread(ms.debug), eventemitter3: spread(ms.eventemitter3), 'p-retry': spread(ms['p-retry']) },
    ...(await bundleSizes()),
  };
}
