/**
 * Reference Express 5 integration: status routes, a manual primary check and one proxied SDK call.
 * Run with `tsx examples/express-status-routes.ts` (reads OPENAI_BASE_URL_PRO, OPENAI_API_KEY_PRO,
 * OPENAI_API_KEY); in your app import from 'resilient-openai' instead of '../src/index.js'.
 */
import express, { type ErrorRequestHandler } from 'express';
import { STATUS_CODES } from 'node:http';
import { pathToFileURL } from 'node:url';
import { APIError } from 'openai';
import { ResilientOpenAI } from '../src/index.js';

export interface AppOptions {
  /** Where event lines go; tests pass their own to keep output quiet. @default console.log */
  log?: (line: string) => void;
}

// An upstream or proxy may echo a credential in its error text; never forward one to a browser.
const redact = (text: string) =>
  text.replace(/\bsk-[A-Za-z0-9_-]{4,}/g, 'sk-***').replace(/\b(Bearer\s+)\S+/gi, '$1***');

// Event errors are raw SDK errors; show only the status or type, never the message.
const reasonOf = (error: unknown) =>
  error instanceof APIError && error.status !== undefined ? String(error.status)
  : error instanceof Error ? error.constructor.name
  : 'unknown';

export function createApp(client: ResilientOpenAI, { log = console.log }: AppOptions = {}): express.Express {
  client.on('switched', ({ from, to, reason, error }) => {
    log(`[resilient-openai] switched ${from} -> ${to} (${reason}${error === undefined ? '' : `: ${reasonOf(error)}`})`);
  });
  client.on('recovered', ({ endpoint, downtimeMs }) => {
    log(`[resilient-openai] ${endpoint} recovered after ${downtimeMs}ms`);
  });
  client.on('healthcheck', ({ endpoint, ok, latencyMs, error }) => {
    log(`[resilient-openai] healthcheck ${endpoint}: ${ok ? 'ok' : `failed (${reasonOf(error)})`} in ${latencyMs}ms`);
  });

  const app = express();
  app.use(express.json());

  app.get('/api/status', (_req, res) => {
    // Pick fields rather than spreading getStatus(): the payload stays stable if the library adds some.
    const { mainApi, fallbackApi, isMainApiAvailable, activeEndpoint, lastCheckedAt } = client.getStatus();
    res.json({ mainApi, fallbackApi, isMainApiAvailable, activeEndpoint, lastCheckedAt });
  });

  app.post('/api/check-main-api', async (_req, res) => {
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
    const prompt: unknown = req.body?.prompt;
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
      const status = error.status !== undefined && error.status >= 400 ? error.status : 502;
      // A proxy's error page is HTML (error.error unset): forward its status line, not its markup.
      const message = error.status !== undefined && error.error === undefined ? `${status} ${STATUS_CODES[status] ?? 'Error'}` : error.message;
      res.status(status).json({ error: redact(message.replace(/\s+/g, ' ').trim()) });
    }
  });

  // Keeps malformed JSON and bugs from reaching Express's default HTML page (which may show a stack).
  const onError: ErrorRequestHandler = (err, _req, res, _next) => {
    const status = typeof err?.status === 'number' && err.status >= 400 && err.status < 500 ? err.status : 500;
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
  const port = Number(process.env.PORT ?? 3000);
  const server = createApp(client).listen(port, (error?: Error) => {
    if (error) throw error;
    console.log(`listening on http://localhost:${port} (primary ${client.getStatus().mainApi})`);
  });
  const shutdown = () => {
    client.close();
    server.close(() => process.exit(0));
    server.closeIdleConnections();
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}
