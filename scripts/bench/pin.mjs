// Core pinning (Linux, `taskset` from util-linux). On a shared machine with few cores, the client
// under test and the upstream process it talks to otherwise take turns on the same core whenever
// the scheduler likes, and a round measures the scheduler as much as the client. Pinned, the
// client (this process, all its threads) runs on one core and every upstream process on another.
// Steps whose point is many processes (propagation) or a fresh process's cost (import time) run
// unpinned: `unpinned(fn)` restores this process's original cores, which children inherit.
import { execFileSync } from 'node:child_process';

let state = { applied: false, reason: 'not requested' };

function taskset(args) {
  try {
    return execFileSync('taskset', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
  } catch {
    return undefined;
  }
}

/** "0-2,5" (taskset's list form) → [0, 1, 2, 5]. */
function cores(list) {
  return list.split(',').flatMap((part) => {
    const [from, to = from] = part.split('-').map(Number);
    return Array.from({ length: to - from + 1 }, (_, i) => from + i);
  });
}

/** All threads of `pid` onto `list` (`-a`: V8's and libuv's threads too, not only the main one). */
const setCores = (pid, list) => taskset(['-a', '-cp', String(list), String(pid)]) !== undefined;

/** Pins this process to its first allowed core and later upstreams to the second; returns what was done. */
export function pin() {
  const out = taskset(['-cp', String(process.pid)]);
  if (out === undefined) return (state = { applied: false, reason: 'taskset not available' });
  const original = out.split(':').pop().trim();
  const allowed = cores(original);
  if (allowed.length < 2) return (state = { applied: false, reason: `only core ${original} available` });
  const [client, upstream] = allowed;
  if (!setCores(process.pid, client)) return (state = { applied: false, reason: 'taskset failed' });
  state = { applied: true, clientCore: client, upstreamCore: upstream, original };
  return pinning();
}

/** What the results' `machine` section records. */
export const pinning = () => {
  const { original: _, ...shown } = state;
  return shown;
};

/** Moves an upstream process (started after `pin()`) to the upstream core; a no-op when unpinned. */
export function pinUpstream(pid) {
  if (state.applied) setCores(pid, state.upstreamCore);
}

/** Runs `fn` with this process (and the children it starts) on all its original cores. */
export async function unpinned(fn) {
  if (!state.applied) return fn();
  setCores(process.pid, state.original);
  try {
    return await fn();
  } finally {
    setCores(process.pid, state.clientCore);
  }
}
