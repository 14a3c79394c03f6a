// 8. The id store (affinity): heap per remembered id at 1,000,000 ids, and the cost of a write and
// a lookup. The store is internal, so its source is loaded through tsx: the code measured is the
// code the package bundles.
import { tsImport } from 'tsx/esm/api';

function heapBytes() {
  globalThis.gc?.();
  globalThis.gc?.();
  return process.memoryUsage().heapUsed;
}

// Ids shaped like the API's: a response id is `resp_` and 48 hex digits, a file id `file-` and 22 letters.
const hex = (n, width) => n.toString(16).padStart(width, '0');
// Flat strings, as JSON.parse gives them (a template literal would build a rope).
const responseId = (i) => JSON.parse(`"resp_${hex(i, 8)}${'a1b2c3d4'.repeat(5)}"`);

export async function affinity({ ids = 1_000_000 } = {}) {
  const { HomeStore } = await tsImport('../../src/affinity/store.ts', import.meta.url);
  const empty = heapBytes();
  const keys = Array.from({ length: ids }, (_, i) => responseId(i));
  const before = heapBytes();
  const store = new HomeStore(ids, 30 * 86_400_000);
  let t = process.hrtime.bigint();
  for (let i = 0; i < ids; i++) store.set(keys[i], i & 1);
  const setNs = Number(process.hrtime.bigint() - t) / ids;
  const after = heapBytes();
  t = process.hrtime.bigint();
  let found = 0;
  for (let i = 0; i < ids; i++) if (store.get(keys[(i * 7919) % ids]) !== undefined) found++;
  const getNs = Number(process.hrtime.bigint() - t) / ids;
  const idLength = keys[0].length;
  // In use, the store holds the only reference to each id string: count them in, too.
  keys.length = 0; // drops the last reference to the strings but the store's
  const total = heapBytes();
  return {
    ids,
    size: store.size,
    found,
    idLength,
    storeMB: (after - before) / 2 ** 20,
    totalMB: (total - empty) / 2 ** 20,
    bytesPerId: (total - empty) / ids,
    setNs,
    getNs,
    gcExposed: typeof globalThis.gc === 'function',
  };
}
