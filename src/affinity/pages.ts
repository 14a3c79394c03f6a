// A page's next request goes where the page came from: its cursor means nothing elsewhere.

/** Set on the request options a page keeps; the SDK copies them into the next page's request. */
export const kServedBy = Symbol('resilient-openai.served-by');

type Tagged = { [kServedBy]?: string };

/** The options a page answer keeps, marked with the endpoint that served it. */
export function markServedBy<T extends object>(options: T, endpoint: string): T {
  return { ...options, [kServedBy]: endpoint };
}

/** The endpoint that served the previous page, for a next-page request. */
export function servedBy(options: object): string | undefined {
  return (options as Tagged)[kServedBy];
}
