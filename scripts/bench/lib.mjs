// Small helpers shared by the benchmark scenarios: upstream processes, timing, statistics.
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pinUpstream } from './pin.mjs';

const upstreamScript = fileURLToPath(new URL('./upstream.mjs', import.meta.url));

/** Starts an upstream in its own process (on its own core after `pin()`); resolves to a handle with its URL and IPC controls. */
export function startUpstream(name) {
  const child = fork(upstreamScript, [name], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('message', ({ port }) => {
      // Once it listens: the threads Node starts at boot exist by now, and later ones inherit.
      pinUpstream(child.pid);
      const send = (msg) => child.send(msg);
      resolve({
        url: `http://127.0.0.1:${port}/v1`,
        mode: (mode) => send({ mode }),
        every502: (n) => send({ every502: n }),
        delay: (ms) => send({ delayMs: ms }),
        reset: () => send({ reset: true }),
        // 'hold' keeps every answer until release(); stats() after mode() confirms the mode is in effect.
        release: () => send({ release: true }),
        stats: () =>
          new Promise((res) => {
            const on = (msg) => {
              if (msg.stats) {
                child.off('message', on);
                res(msg.stats);
              }
            };
            child.on('message', on);
            send({ stats: true });
          }),
        close: () => new Promise((res) => (child.once('exit', res), send({ exit: true }))),
      });
    });
  });
}

export const now = () => performance.now();

export function percentile(sorted, p) {
  if (!sorted.length) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i];
}

export function summarize(latenciesMs, wallMs) {
  const sorted = [...latenciesMs].sort((a, b) => a - b);
  return { calls: sorted.length, rps: (sorted.length / wallMs) * 1000, p50: percentile(sorted, 50), p99: percentile(sorted, 99) };
}

export const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** Runs `call` `total` times with `concurrency` workers; returns per-call latencies and wall time. */
export async function load(call, { total, concurrency }) {
  const latencies = [];
  let started = 0;
  const t0 = now();
  const worker = async () => {
    while (started < total) {
      started++;
      const t = now();
      await call();
      latencies.push(now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return { latencies, wallMs: now() - t0 };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
export const fmt = (n, digits = 0) =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits }) : 'n/a';
