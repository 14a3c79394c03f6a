/** What the rest of the package uses of the guard's module. */
interface GuardModule {
  guardStream: typeof import('./guard-stream.js').guardStream;
  sdkBody: typeof import('./guard-stream.js').sdkBody;
}

// The stream guard (guard-stream.ts, the SSE reader and the stream rules under it) is about a
// fifth of the package's code, and an app that never streams never runs it: it loads at the first
// stream instead of at import (BENCHMARKS.md, step 7). In the ESM build it is a file of its own
// (tsup.config.ts); bundlers and the CommonJS build keep it inline.

let loaded: GuardModule | undefined;
let loading: Promise<GuardModule> | undefined;

/** The guard once a stream has loaded it; undefined before: no response can be guarded yet. */
export function loadedGuard(): GuardModule | undefined {
  return loaded;
}

/** Loads the guard; a failed load (a broken install or bundle) rejects this stream, and the next one tries again. */
export function loadGuard(): Promise<GuardModule> {
  return (loading ??= import('./guard-stream.js').then(
    ({ guardStream, sdkBody }) => (loaded = { guardStream, sdkBody }),
    (error: unknown) => {
      loading = undefined;
      throw error;
    },
  ));
}
