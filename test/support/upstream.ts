/**
 * Fake OpenAI-compatible upstream for tests: node:http only, bound to 127.0.0.1:0. Speaks JSON,
 * SSE and multipart like the OpenAI API and can inject faults. Its parts, in ./upstream/:
 *
 *   server.ts     lifecycle: listen, take each request, apply its fault, close
 *   faults.ts     the faults and how each is answered; gate() to hold requests in flight
 *   recording.ts  the requests received, and waiting until some have arrived
 *   routes.ts     what each route answers; chat.ts and responses.ts build those two APIs' bodies
 *   stream-edges.ts  chat stream edges for streaming requests: marker text, n=2, stalls, error frames, HTML 200
 *   wire.ts       replies on the wire: JSON, text, SSE; whole, cut, truncated, stalled or slow
 *   multipart.ts  multipart/form-data bodies
 *   background.ts  background Responses runs kept for GET /responses/{id}?stream=true&starting_after=N
 *   ports.ts      a URL where nothing listens
 */
export { startUpstream, type Upstream } from './upstream/server.js';
export { gate } from './upstream/faults.js';
export type { RecordedRequest } from './upstream/recording.js';
export { refusedURL } from './upstream/ports.js';
