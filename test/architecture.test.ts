import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The folders of src/ are layers: a file imports only from its own folder or from a folder below
// it (ARCHITECTURE.md). This keeps that true, and keeps import circles out.
const src = fileURLToPath(new URL('../src/', import.meta.url));
const LAYERS = ['(top)', 'setup', 'fetch', 'call', 'affinity', 'health', 'streams', 'routing', 'coordination', 'observe', 'options'];

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? files(join(dir, e.name)) : [join(dir, e.name)]));
}

const graph = new Map<string, string[]>(
  files(src).map((file) => {
    const code = readFileSync(file, 'utf8');
    const targets = [...code.matchAll(/from '(\.[^']+)'/g)].map((m) => normalize(join(dirname(file), m[1]!)).replace(/\.js$/, '.ts'));
    return [relative(src, file), targets.map((t) => relative(src, t))];
  }),
);
const layerOf = (file: string) => (file.includes('/') ? file.split('/')[0]! : '(top)');

describe('architecture', () => {
  it('has no import circle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) {
        if (state.get(next) === 'open') cycles.push([...path.slice(path.indexOf(next)), next].join(' -> '));
        else if (!state.has(next)) visit(next, [...path, next]);
      }
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file, [file]);
    expect(cycles).toEqual([]);
  });

  it('imports only from its own folder or a folder below it', () => {
    const upward: string[] = [];
    for (const [file, targets] of graph) {
      for (const target of targets) {
        const from = LAYERS.indexOf(layerOf(file));
        const to = LAYERS.indexOf(layerOf(target));
        expect(from, `${file} is in a folder ARCHITECTURE.md does not list`).not.toBe(-1);
        expect(to, `${target} is in a folder ARCHITECTURE.md does not list`).not.toBe(-1);
        if (to < from) upward.push(`${file} -> ${target}`);
      }
    }
    expect(upward).toEqual([]);
    // A positive control: the layers are really used, top to bottom.
    expect(graph.get('call/execute.ts')).toContain('routing/router.ts');
  });

  it('src/index.ts only re-exports', () => {
    const lines = readFileSync(join(src, 'index.ts'), 'utf8')
      .split('\n')
      .filter((line) => line.trim() && !line.trim().startsWith('//'));
    const code = lines.join('\n');
    expect(code.replace(/export (type )?\{[^}]*\} from '[^']+';/g, '').trim()).toBe('');
  });

  it('keeps the Redis backend, the telemetry recorders and the stream guard out of the import: they load on first use', () => {
    // Runtime imports only: `import type` is erased, and a dynamic import() loads on first use.
    const runtime = (file: string) =>
      [...readFileSync(join(src, file), 'utf8').matchAll(/^(?:import|export)(?! type)[^;]*? from '(\.[^']+)'/gm)].map((m) =>
        relative(src, normalize(join(dirname(join(src, file)), m[1]!)).replace(/\.js$/, '.ts')),
      );
    const loaded = new Set<string>();
    const visit = (file: string) => {
      if (loaded.has(file)) return;
      loaded.add(file);
      for (const next of runtime(file)) visit(next);
    };
    visit('index.ts');
    // Positive controls: the walk reaches the factory and the code every call runs.
    expect(loaded).toContain('coordination/redis/create.ts');
    expect(loaded).toContain('call/execute.ts');
    expect([...loaded].filter((f) => f.startsWith('coordination/redis/'))).toEqual(
      expect.not.arrayContaining([
        'coordination/redis/coordination.ts',
        'coordination/redis/client-adapter.ts',
        'coordination/redis/commands.ts',
      ]),
    );
    expect(readFileSync(join(src, 'coordination/redis/create.ts'), 'utf8')).toMatch(/import\('\.\/coordination\.js'\)/);
    // The stream guard's chunk: none of it in the import. tsup.config.ts relies on this for
    // guarded-source.ts, which in the chunk imports the error classes from the entry.
    expect(loaded).toContain('streams/load-guard.ts');
    expect(loaded).toContain('streams/errors.ts');
    for (const chunkOnly of ['streams/guard-stream.ts', 'streams/guarded-source.ts', 'streams/stream-check.ts', 'streams/sse-frames.ts'])
      expect(loaded).not.toContain(chunkOnly);
    expect([...loaded].filter((f) => f.startsWith('streams/rules/'))).toEqual([]);
    expect(readFileSync(join(src, 'streams/load-guard.ts'), 'utf8')).toMatch(/import\('\.\/guard-stream\.js'\)/);
  });
});
