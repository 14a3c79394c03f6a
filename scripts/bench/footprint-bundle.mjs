// 7. Footprint, bytes: the built files as published, and what an application bundle pays: esbuild
// (from node_modules, where tsup brings it) bundles, minified, `export { ResilientOpenAI } from
// 'resilient-openai'` and `export { default } from 'openai'`; the difference is what we add, split
// by package from esbuild's metafile. Platform node: debug reads `tty` and `util` there.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const root = fileURLToPath(new URL('../../', import.meta.url));

const sizes = (bytes) => ({ bytes: bytes.length, gzipBytes: gzipSync(bytes).length });

/** node_modules/p-retry/index.js → p-retry; dist/index.js (the package itself, by self-reference) → resilient-openai. */
function packageOf(path) {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(path);
  return m ? m[1] : 'resilient-openai';
}

async function bundle(esbuild, contents) {
  const out = await esbuild.build({
    stdin: { contents, resolveDir: root, loader: 'js' },
    bundle: true,
    minify: true,
    write: false,
    metafile: true,
    platform: 'node',
    format: 'esm',
    logLevel: 'silent',
  });
  const byPackage = {};
  for (const output of Object.values(out.metafile.outputs))
    for (const [path, { bytesInOutput }] of Object.entries(output.inputs))
      byPackage[packageOf(path)] = (byPackage[packageOf(path)] ?? 0) + bytesInOutput;
  return { ...sizes(out.outputFiles[0].contents), byPackage };
}

export async function bundleSizes() {
  const files = {
    esm: sizes(readFileSync(new URL('dist/index.js', `file://${root}`))),
    // Loaded on first use, each its own ESM file: the Redis backend, the telemetry span recorders,
    // the stream guard.
    esmRedis: sizes(readFileSync(new URL('dist/redis-coordination.js', `file://${root}`))),
    esmTelemetry: sizes(readFileSync(new URL('dist/telemetry-recorders.js', `file://${root}`))),
    esmStreams: sizes(readFileSync(new URL('dist/stream-guard.js', `file://${root}`))),
    cjs: sizes(readFileSync(new URL('dist/index.cjs', `file://${root}`))),
  };
  let esbuild;
  try {
    esbuild = await import('esbuild');
  } catch {
    return { files, bundle: { skipped: 'esbuild not installed' } };
  }
  const ours = await bundle(esbuild, "export { ResilientOpenAI } from 'resilient-openai';");
  const openai = await bundle(esbuild, "export { default } from 'openai';");
  // What each package adds to the application's bundle (openai's own share: the same in both, or more).
  const added = Object.fromEntries(
    Object.entries(ours.byPackage)
      .map(([name, bytes]) => [name, bytes - (openai.byPackage[name] ?? 0)])
      .filter(([, bytes]) => bytes !== 0)
      .sort((a, b) => b[1] - a[1]),
  );
  return {
    files,
    bundle: {
      esbuild: esbuild.version,
      ours: { bytes: ours.bytes, gzipBytes: ours.gzipBytes },
      openai: { bytes: openai.bytes, gzipBytes: openai.gzipBytes },
      addedBytes: ours.bytes - openai.bytes,
      addedGzipBytes: ours.gzipBytes - openai.gzipBytes,
      addedByPackage: added,
    },
  };
}
