/**
 * `npm run demo`: the whole failover story on localhost, with no API key and no network.
 * A primary behind a broken proxy (502), a healthy fallback, the Express example app in front,
 * and a "user" calling the app with fetch while the primary goes down and comes back.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ResilientOpenAI } from '../src/index.js';
import { createApp } from './express-status-routes.js';
import { startLocalUpstream, type LocalUpstream } from './local-upstream.js';

const HEALTH_INTERVAL_MS = 1000;
const indent = (text: string) => text.replace(/^/gm, '     ');

async function main(): Promise<void> {
  const closers: (() => unknown)[] = [];
  try {
    const primary: LocalUpstream = await startLocalUpstream('primary');
    closers.push(() => primary.close());
    const fallback = await startLocalUpstream('fallback');
    closers.push(() => fallback.close());
    primary.setDown(true);

    const client = new ResilientOpenAI({
      apiKey: 'sk-demo-primary',
      baseURL: primary.url,
      fallback: { apiKey: 'sk-demo-fallback', baseURL: fallback.url },
      healthCheck: { intervalMs: HEALTH_INTERVAL_MS, timeoutMs: 500 },
    });
    closers.push(() => client.close());

    // The check route needs a token (secure by default); the demo makes one up and sends it.
    const checkToken = randomUUID();
    const server = createServer(createApp(client, { checkToken }));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    });
    closers.push(
      () =>
        new Promise<void>((resolve) => {
          server.close(() => resolve());
          server.closeAllConnections();
        }),
    );
    const app = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

    const width = Math.max(primary.url.length, fallback.url.length, app.length) + 3;
    console.log('resilient-openai demo: everything runs on 127.0.0.1, no API key, no network\n');
    console.log(`  primary   ${primary.url.padEnd(width)}DOWN: its proxy answers 502 Bad Gateway`);
    console.log(`  fallback  ${fallback.url.padEnd(width)}up`);
    console.log(`  app       ${app.padEnd(width)}examples/express-status-routes.ts`);
    console.log(`  the health timer probes the primary every ${HEALTH_INTERVAL_MS}ms`);

    let step = 0;
    const call = async (title: string, method: 'GET' | 'POST', path: string, body?: unknown) => {
      console.log(`\n${++step}. ${title}`);
      console.log(`   -> ${method} ${path}${body === undefined ? '' : ` ${JSON.stringify(body)}`}`);
      const headers: Record<string, string> = { authorization: `Bearer ${checkToken}` };
      const init: RequestInit = { method, headers };
      if (body !== undefined) init.body = JSON.stringify(body);
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(app + path, init);
      const json: unknown = await res.json();
      console.log(`   <- ${res.status}\n${indent(JSON.stringify(json, null, 2))}`);
      if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}`);
      return json as Record<string, unknown>;
    };

    await call('Status before any call: the client has not seen the outage yet', 'GET', '/api/status');
    const first = await call(
      'Generate an image: the primary answers 502, the same call is retried on the fallback',
      'POST',
      '/api/images',
      {
        prompt: 'a lighthouse in a storm',
      },
    );
    await call('Status again: the primary is marked down, traffic goes to the fallback', 'GET', '/api/status');
    await call('Ask the app to check the primary now (it is still down)', 'POST', '/api/check-main-api');

    console.log(`\n${++step}. The primary's backend comes back; waiting for the health timer to notice`);
    const recovered = new Promise<number>((resolve, reject) => {
      const started = Date.now();
      const timer = setTimeout(() => reject(new Error('the primary was not seen recovering within 5s')), 5 * HEALTH_INTERVAL_MS);
      client.once('recovered', () => {
        clearTimeout(timer);
        resolve(Date.now() - started);
      });
    });
    primary.setDown(false);
    console.log(`   (health timer noticed after ${await recovered}ms)`);

    const second = await call('Generate an image again: served by the primary', 'POST', '/api/images', {
      prompt: 'the same lighthouse, calm sea',
    });
    const final = await call('Final status', 'GET', '/api/status');

    if (first.endpoint !== 'fallback' || second.endpoint !== 'primary' || final.isMainApiAvailable !== true) {
      throw new Error('the demo did not go as expected (see the answers above)');
    }
    console.log('\nDone: served by the fallback during the outage, back on the primary after recovery.');
  } finally {
    for (const close of closers.reverse()) await close();
  }
}

// Nothing here should take long; if something hangs, fail loudly instead of blocking `npm run demo`.
setTimeout(() => {
  console.error('demo: timed out');
  process.exit(1);
}, 20_000).unref();

main().then(
  () => {
    process.exitCode = 0;
  },
  (error: unknown) => {
    console.error('demo failed:', error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
