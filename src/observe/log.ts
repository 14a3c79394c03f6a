import createDebug from 'debug';

/** Enable with `DEBUG=resilient-openai`. Every message passes through `scrub()` first. */
export const log = createDebug('resilient-openai');
