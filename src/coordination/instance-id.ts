/**
 * A random id for this process in a cluster. Web Crypto's `randomUUID` exists on every runtime
 * openai supports (Node 20+, Deno, Bun, Workers, browsers); drawn only when first needed, because
 * Workers forbid random values at module scope.
 */
export function randomInstanceId(): string {
  const uuid = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto?.randomUUID?.();
  return (uuid ?? Math.random().toString(16).slice(2).padEnd(8, '0')).slice(0, 8);
}
