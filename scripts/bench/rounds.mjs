// Alternating rounds, spreads and the noise verdict shared by the comparisons (steps 1, 1b, 1c, 7).
// A comparison runs many short rounds, each side once per round, in an order that changes from
// round to round; it reports the median of the per-round figures and their spread. Its A/A control
// is a second, identical plain side measured in the same rounds: how far apart noise alone puts two
// sides that run the same code.
import { median, percentile } from './lib.mjs';

function permutations(xs) {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((rest) => [x, ...rest]));
}

/**
 * Runs `rounds` rounds of `run(side)` for each side, cycling through every order of the sides, so
 * that each side runs first, in the middle and last equally often (drift, a warm cache or the
 * previous side's garbage favour no side). With `gc`, a minor collection (a scavenge) before each
 * side: the young garbage one side leaves is collected before the next side's timing, not during
 * it. Not a full one: a forced full GC shrinks the heap, and the next thousand calls ran 3 to 4
 * times slower while it grew back (measured on Node 20).
 * Resolves to { [side]: [figure of round 0, figure of round 1, …] }.
 */
export async function alternate(sides, rounds, run, { gc = true } = {}) {
  const orders = permutations(sides);
  const out = Object.fromEntries(sides.map((side) => [side, []]));
  for (let r = 0; r < rounds; r++) {
    for (const side of orders[r % orders.length]) {
      if (gc) globalThis.gc?.({ type: 'minor' });
      out[side].push(await run(side, r));
    }
  }
  return out;
}

/** Median, interquartile range and range of per-round figures. */
export function spread(xs) {
  const sorted = [...xs].sort((a, b) => a - b);
  return {
    median: median(sorted),
    p25: percentile(sorted, 25),
    p75: percentile(sorted, 75),
    min: sorted[0],
    max: sorted.at(-1),
    n: sorted.length,
  };
}

/**
 * Whether a measured difference is inside the noise. `measured` and `control` are spreads of
 * per-round figures compared to `neutral` (1 for ratios, 0 for differences): the A/A control's
 * interquartile width, or its median's own distance from neutral if larger (an order or warm-up
 * effect that no code difference caused), is the noise; a measured median no further than that
 * from neutral cannot be told apart from two identical clients.
 */
export function noise(measured, control, neutral) {
  const width = Math.max(control.p75 - control.p25, Math.abs(control.median - neutral));
  return { noise: width, inside: Math.abs(measured.median - neutral) <= width };
}

/** Per-round `f(side, base)` over two sides' figures (e.g. a ratio or a difference). */
export const paired = (a, b, f) => a.map((x, i) => f(x, b[i]));
