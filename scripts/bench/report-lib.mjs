// Formatting shared by the report's rows: units, spreads, and the noise verdict of a comparison
// that has an A/A control (rounds.mjs).
import { fmt } from './lib.mjs';

export const ms = (n) => `${fmt(n, n < 10 ? 2 : 0)} ms`;
export const us = (n) => `${fmt(n, 1)} µs`;
export const kB = (bytes) => `${fmt(bytes / 1024, 1)} kB`;
export const yes = (ok) => (ok ? '✅' : '❌ missed');
const signed = (n, digits) => `${n < 0 ? '−' : '+'}${fmt(Math.abs(n), digits)}`;

/** "p25–p75 0.97–1.01, min–max 0.93–1.04" (`sign`: figures are differences, shown with their sign). */
export function spreadText(s, { digits = 3, sign = false, range = true } = {}) {
  if (!s) return '';
  const f = (n) => (sign ? signed(n, digits) : fmt(n, digits));
  return `p25–p75 ${f(s.p25)} to ${f(s.p75)}` + (range ? `, min–max ${f(s.min)} to ${f(s.max)}` : '');
}

/** The Noise column: the A/A control's spread and whether the measured difference is inside it. */
export function noiseCell(c, { digits = 3, sign = false, unit = '' } = {}) {
  if (!c?.aa) return '—';
  const verdict = c.inside ? 'inside the noise' : 'outside the noise';
  const median = sign ? signed(c.aa.median, digits) : fmt(c.aa.median, digits);
  return `A/A ${median}${unit} (${spreadText(c.aa, { digits, sign, range: false })}): ${verdict}`;
}

/**
 * The Met column of a comparison with a noise verdict: a goal met is met; a goal missed by a
 * difference inside the noise is not decided by this run (more rounds, a quieter machine).
 */
export function metWithNoise(ok, c) {
  if (ok) return '✅';
  return c?.aa && c.inside ? '❔ inside the noise' : '❌ missed';
}

export { fmt, signed };
