/**
 * Reference Express 5 integration: status routes, a live status page, a protected manual primary
 * check and one proxied SDK call. Run with `tsx examples/express-status-routes.ts` (reads
 * OPENAI_BASE_URL_PRO, OPENAI_API_KEY_PRO, OPENAI_API_KEY, and STATUS_CHECK_TOKEN for the check
 * route), then open http://localhost:3000/status/. In your app import from 'resilient-openai'
 * instead of '../src/index.js'.
 *
 *   GET  /status/                 the status page (static files in examples/status-page/)
 *   GET  /api/status              the classic shape; `?detail=full`: the whole snapshot, per endpoint
 *   GET  /api/events              server-sent events: `status`, `switched`, `recovered`, `healthcheck`, `breaker`
 *   GET  /api/timeline            recent switches, recoveries, breaker changes and health checks
 *   POST /api/check-main-api      probe the primary now (Authorization: Bearer STATUS_CHECK_TOKEN, rate-limited)
 *   POST /api/images              one SDK call through the client, to see failover happen
 *
 * The live feed (`/api/events`, `/api/timeline`) is in examples/live-feed.ts.
 */
import express, { type ErrorRequestHandler } from 'express';
import { createHash, timingSafeEqual } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { APIError } from 'openai';
import { ResilientOpenAI } from '../src/index.js';
import { liveFeedOf, mountLiveFeed, reasonOf, safeStatus } from './live-feed.js';

// Tests, the demo and copies of this file import these from here.
export { liveFeedOf, safeStatus, type FeedEvent, type LiveFeed } from './live-feed.js';

export interface AppOptions {
  /** Where event lines go; tests pass their own to keep output quiet. @default console.log */
  log?: (line: string) => void;
  /**
   * Bearer token that `POST /api/check-main-api` requires. Without one the route answers 503: anyone
   * who can reach it could otherwise make the server probe its upstream.
   */
  checkToken?: string | undefined;
  /** Manual checks allowed per window, for all callers together. @default { max: 6, windowMs: 60000 } */
  checkRateLimit?: { max: number; windowMs: number };
  /** Past events kept for `GET /api/timeline`, per list (timeline, health checks). @default 50 */
  historySize?: number;
}

// An upstream or proxy may echo a credential in its error text; never forward one to a browser.
const redact = (text: string) => text.replace(/\bsk-[A-Za-z0-9_-]{4,}/g, 'sk-***').replace(/\b(Bearer\s+)\S+/gi, '$1***');

const sha256 = (text: string) => createHash('sha256').update(text).digest();

export function createApp(client: ResilientOpenAI, options: AppOptions = {}): express.Express {
  const { log = console.log, checkToken, checkRateLimit = { max: 6, windowMs: 60_000 }, historySize = 50 } = options;

  // Server log lines. Registered before mountLiveFeed's listeners, so a line is logged before its event goes out.
  client.on('switched', ({ from, to, reason, error }) =>
    log(`[resilient-openai] switched ${from} -> ${to} (${reason}${error === undefined ? '' : `: ${reasonOf(error)}`})`),
  );
  client.on('recovered', ({ endpoint, downtimeMs }) => log(`[resilient-openai] ${endpoint} recovered after ${downtimeMs}ms`));
  client.on('healthcheck', ({ endpoint, ok, latencyMs, error }) =>
    log(`[resilient-openai] healthcheck ${endpoint}: ${ok ? 'ok' : `failed (${reasonOf(error)})`} in ${latencyMs}ms`),
  );

  const app = express();
  app.use(express.json());

  // The page loads only its own files and talks only to this origin.
  const pageDir = fileURLToPath(new URL('./status-page/', import.meta.url));
  app.use(
    '/status',
    express.static(pageDir, {
      setHeaders: (res) => {
        res.setHeader(
          'Content-Security-Policy',
          "default-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
        );
        res.setHeader('X-Content-Type-Options', 'nosniff');
        res.setHeader('Referrer-Policy', 'no-referrer');
      },
    }),
  );

  // GET /api/events and GET /api/timeline, the data the page shows.
  mountLiveFeed(app, client, { historySize });

  app.get('/api/status', (req, res) => {
    // The page's polling fallback: the snapshot the live feed sends as its `status` event.
    if (req.query.detail === 'full') {
      res.json(safeStatus(client));
      return;
    }
    // Pick fields rather than spreading getStatus(): the payload stays stable if the library adds some.
    const { mainApi, fallbackApi, isMainApiAvailable, activeEndpoint, lastCheckedAt } = client.getStatus();
    res.json({ mainApi, fallbackApi, isMainApiAvailable, activeEndpoint, lastCheckedAt });
  });

  // Fixed window, shared by every caller: the point is to bound how often the upstream is probed.
  let windowStart = 0;
  let used = 0;
  const expected = checkToken ? sha256(checkToken) : null;

  app.post('/api/check-main-api', async (req, res) => {
    if (!expected) {
      res.status(503).json({ success: false, message: 'check disabled: set STATUS_CHECK_TOKEN' });
      return;
    }
    const given = /^Bearer\s+(\S+)\s*$/i.exec(req.get('authorization') ?? '')?.[1];
    // Hashes have equal length, so timingSafeEqual never throws and the time says nothing about the token.
    if (given === undefined || !timingSafeEqual(sha256(given), expected)) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      res.status(401).json({ success: false, message: given === undefined ? 'Authorization: Bearer <token> required' : 'invalid token' });
      return;
    }
    const now = Date.now();
    if (now - windowStart >= checkRateLimit.windowMs) {
      windowStart = now;
      used = 0;
    }
    if (used >= checkRateLimit.max) {
      const retryAfter = Math.max(1, Math.ceil((windowStart + checkRateLimit.windowMs - now) / 1000));
      res.setHeader('Retry-After', String(retryAfter));
      res.status(429).json({ success: false, message: `too many checks; retry in ${retryAfter}s` });
      return;
    }
    used++;
    try {
      const answered = await client.checkPrimary();
      // Availability is the breaker's view: after an outage it needs a few healthy checks in a row.
      const { isMainApiAvailable } = client.getStatus();
      const message =
        isMainApiAvailable ? 'Primary API is available'
        : answered ? 'Primary API answered; traffic returns to it after more healthy checks'
        : 'Primary API is unavailable; using the fallback';
      res.json({ success: true, isMainApiAvailable, message });
    } catch {
      res.status(500).json({ success: false, message: 'Could not check the primary API' });
    }
  });

  app.post('/api/images', async (req, res) => {
    const prompt = (req.body as { prompt?: unknown } | undefined)?.prompt;
    if (typeof prompt !== 'string' || !prompt.trim()) {
      res.status(400).json({ error: 'Body must be JSON with a non-empty "prompt" string' });
      return;
    }
    try {
      const image = await client.images.generate({ model: 'dall-e-3', prompt, n: 1, size: '1024x1024' });
      res.json({ url: image.data?.[0]?.url ?? null, endpoint: client.getStatus().activeEndpoint });
    } catch (error) {
      if (!(error instanceof APIError)) throw error; // Express 5 hands rejected handlers to onError
      // Connection errors have no status: from the browser's view, a bad gateway.
      const upstreamStatus = error.status as number | undefined;
      const status = upstreamStatus !== undefined && upstreamStatus >= 400 ? upstreamStatus : 502;
      // A proxy's error page is HTML (error.error unset): forward its status line, not its markup.
      const message =
        upstreamStatus !== undefined && error.error === undefined ? `${status} ${STATUS_CODES[status] ?? 'Error'}` : error.message;
      res.status(status).json({ error: redact(message.replace(/\s+/g, ' ').trim()) });
    }
  });

  // Keeps malformed JSON and bugs from reaching Express's default HTML page (which may show a stack).
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    const errStatus = (err as { status?: unknown } | undefined)?.status;
    const status = typeof errStatus === 'number' && errStatus >= 400 && errStatus < 500 ? errStatus : 500;
    res.status(status).json({ error: status === 500 ? 'Internal server error' : 'Bad request' });
  };
  app.use(onError);
  return app;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  let client: ResilientOpenAI;
  try {
    client = new ResilientOpenAI(); // zero-config: primary and fallback come from the environment
  } catch (error) {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  }
  const checkToken = process.env.STATUS_CHECK_TOKEN || undefined;
  const port = Number(process.env.PORT ?? 3000);
  const app = createApp(client, { checkToken });
  const server = app.listen(port, (error?: Error) => {
    if (error) throw error;
    console.log(`listening on http://localhost:${port} (primary ${client.getStatus().mainApi})`);
    console.log(`status page: http://localhost:${port}/status/`);
    if (!checkToken) console.log('POST /api/check-main-api is disabled: set STATUS_CHECK_TOKEN to enable it');
  });
  const shutdown = () => {
    client.close();
    liveFeedOf(app).close(); // event streams never go idle on their own
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
