/** Reading untyped JSON request bodies, and the values every reply shares. */
export type Obj = Record<string, unknown>;

export const asObj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
export const asArr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
export const asStr = (v: unknown, dflt = ''): string => (typeof v === 'string' ? v : dflt);
export const nowSec = (): number => Math.floor(Date.now() / 1000);

export const usage = { prompt_tokens: 5, completion_tokens: 4, total_tokens: 9 };
