import { guardStream, sdkBody } from './guard-stream.js';

// load-guard.ts for the CommonJS build (tsup.config.ts), which keeps the guard inline: a dynamic
// import() there becomes a module wrapper with an export object of its own, placed before the
// package's, and tools that read a bundle's first export object for its exports (attw) then see
// no default export. Named imports leave the guard as plain inline code.

const guard = { guardStream, sdkBody };

export function loadedGuard(): typeof guard {
  return guard;
}

export function loadGuard(): Promise<typeof guard> {
  return Promise.resolve(guard);
}
