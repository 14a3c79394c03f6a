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
 * A signal that aborts when either does. `AbortSignal.any` holds the caller's signal weakly, so a
 * long-lived signal shared by many calls does not collect one listener per call.
 */
export function either(signal: AbortSignal, controller: AbortController): AbortSignal {
  if (typeof AbortSignal.any === 'function') return AbortSignal.any([signal, controller.signal]);
  signal.addEventListener('abort', () => controller.abort(), { once: true });
  return controller.signal;
}
