// `debug` costs more to import than the rest of this package, and a client that is not being
// debugged never needs it: it is imported when DEBUG (which `debug.enable()` also sets) or the
// browser's `localStorage.debug` names anything at all, and the `debug` package decides from there.
type Debugger = (format: string, ...args: unknown[]) => void;

const NAMESPACE = 'resilient-openai';
/** Lines logged while `debug` is being imported, printed once it is there. */
const MAX_PENDING = 100;

let debug: Debugger | undefined;
let loading: Promise<void> | undefined;
let pending: [string, unknown[]][] = [];

function debugWanted(): boolean {
  // Either read may throw: Deno without --allow-env, storage a sandboxed frame may not touch.
  // Nobody asked for logs there.
  try {
    if ((globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.DEBUG) return true;
    return !!(globalThis as { localStorage?: { getItem(key: string): string | null } }).localStorage?.getItem('debug');
  } catch {
    return false;
  }
}

function load(): Promise<void> {
  return import('debug').then(
    (module) => {
      const createDebug = ((module as { default?: unknown }).default ?? module) as (namespace: string) => Debugger;
      debug = createDebug(NAMESPACE);
      for (const [format, args] of pending) debug(format, ...args);
      pending = [];
    },
    () => {
      // Not installed or not loadable on this runtime: logging stays off.
      pending = [];
    },
  );
}

/** Enable with `DEBUG=resilient-openai`. Every message passes through `scrub()` first. */
export function log(format: string, ...args: unknown[]): void {
  if (debug) return debug(format, ...args);
  if (!debugWanted()) return;
  if (pending.length < MAX_PENDING) pending.push([format, args]);
  loading ??= load();
}
