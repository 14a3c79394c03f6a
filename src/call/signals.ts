import { APIUserAbortError } from 'openai';

/** Waits `ms`; rejects with the SDK's abort error when `signal` aborts first. */
export function abortableSleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new APIUserAbortError());
    const onAbort = () => {
      clearTimeout(timer);
      reject(new APIUserAbortError());
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A signal of the attempt's own that aborts with the caller's. The SDK leaves a listener on the
 * signal it is given, for good: on this one, not on a long-lived signal shared by many calls
 * (`AbortSignal.any` holds the caller's weakly).
 */
export function follow(signal: AbortSignal): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([signal]);
  const controller = new AbortController();
  signal.addEventListener('abort', () => controller.abort(), { once: true });
  return controller.signal;
}
