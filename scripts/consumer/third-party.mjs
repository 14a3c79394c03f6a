// Code that takes an OpenAI client keeps working when it is handed a ResilientOpenAI instead.
// Usage (inside a consumer project that installed the packed tarball): node third-party.mjs NAME
//   langsmith       langsmith/wrappers `wrapOpenAI(client)`, tracing on, runs posted to a local collector
//   openai-agents   @openai/agents-core `Runner` with @openai/agents-openai `OpenAIProvider({ openAIClient })`
//   ai-sdk          ai `generateText`/`streamText` over @ai-sdk/openai `createOpenAI({ fetch: client.fetch })`
//   langchain       @langchain/openai `ChatOpenAI({ configuration: { fetch: client.fetch } })`
// Each makes a chat completion (ai-sdk: also Responses calls, and streams) through the library
// against two loopback upstreams (the primary answers 502 with an HTML page, the fallback what was
// asked) and checks that it succeeded via the fallback and that `switched` fired. Every TCP
// connection to a host other than loopback throws.
import http from 'node:http';
import net from 'node:net';
import { ResilientOpenAI } from 'resilient-openai';
import upstreams from './upstreams.cjs';

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '::1', '[::1]']);
const offLimits = [];
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function guardedConnect(...args) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0]; // net normalizes to [options, cb] internally
  const options =
    typeof first === 'object' && first !== null ? first : { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
  if (options.path === undefined && !LOOPBACK.has(String(options.host ?? 'localhost'))) {
    offLimits.push(`${options.host}:${options.port}`);
    throw new Error(`third-party check: connection to ${options.host}:${options.port} refused (loopback only)`);
  }
  return connect.apply(this, args);
};
// Belt and braces: nothing below should want these, and none of them may reach a network.
process.env.OPENAI_AGENTS_DISABLE_TRACING = '1';
for (const name of [
  'LANGSMITH_TRACING',
  'LANGCHAIN_TRACING_V2',
  'LANGSMITH_API_KEY',
  'LANGSMITH_ENDPOINT',
  'OPENAI_API_KEY',
  'OPENAI_BASE_URL',
]) {
  delete process.env[name];
}

function listen(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler).listen(0, '127.0.0.1', () => resolve(server));
  });
}

async function withClient(run) {
  const { primaryURL, fallbackURL, requests, close } = await upstreams.start();
  const client = new ResilientOpenAI({
    apiKey: 'sk-third-123456',
    baseURL: primaryURL,
    fallback: { apiKey: 'sk-third-654321', baseURL: fallbackURL },
    healthCheck: false,
  });
  const switched = [];
  client.on('switched', (e) => switched.push(`${e.from}->${e.to}`));
  try {
    const detail = await run(client, requests);
    if (switched.join() !== 'primary->fallback') throw new Error(`expected one switch primary->fallback, saw [${switched.join()}]`);
    return `${detail}; failed over ${switched.join()}`;
  } finally {
    close();
    client.close();
  }
}

// The host libraries reach the client only through client.fetch, which must route their request
// (addressed to api.openai.com, which the guard above keeps unreached, with `Bearer unused`) to
// each endpoint with its own key: exactly one 502 at the primary and one request at the fallback.
// More would mean the host library (maxRetries: 0) or its SDK retried on top of the client.
function expectRequests(requests, path) {
  const want = { primary: [`POST /v1${path} Bearer sk-third-123456`], fallback: [`POST /v1${path} Bearer sk-third-654321`] };
  if (JSON.stringify(requests) !== JSON.stringify(want))
    throw new Error(`requests per upstream: expected ${JSON.stringify(want)}, saw ${JSON.stringify(requests)}`);
}

const checks = {
  // https://docs.smith.langchain.com: wrapOpenAI copies the client's fields into a traced object
  // whose chat.completions.create is bound to the original client's resource, so calls go through
  // ResilientOpenAI.request(). Tracing is switched on and sent to a collector on 127.0.0.1.
  async langsmith() {
    const { wrapOpenAI } = await import('langsmith/wrappers/openai');
    const { Client } = await import('langsmith');
    const { isTraceableFunction } = await import('langsmith/traceable');
    const posted = [];
    const collector = await listen((req, res) => {
      const chunks = [];
      req.on('data', (c) => chunks.push(c));
      req.on('end', () => {
        if (req.method === 'POST') posted.push(Buffer.concat(chunks).toString('utf8'));
        res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      });
    });
    try {
      return await withClient(async (client) => {
        const tracer = new Client({ apiUrl: `http://127.0.0.1:${collector.address().port}`, apiKey: 'ls-local-only' });
        const traced = wrapOpenAI(client, { client: tracer, tracingEnabled: true });
        if (!isTraceableFunction(traced.chat.completions.create)) throw new Error('wrapOpenAI did not wrap chat.completions.create');
        const completion = await traced.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
        if (completion.choices[0]?.message.content !== 'from fallback')
          throw new Error(`unexpected completion ${JSON.stringify(completion)}`);
        await tracer.awaitPendingTraceBatches();
        if (!posted.some((body) => body.includes('"ChatOpenAI"') && body.includes('from fallback'))) {
          throw new Error(`the traced run was not posted to the collector (${posted.length} posts)`);
        }
        return 'wrapOpenAI(client): completion via the fallback, run traced to the local collector';
      });
    } finally {
      collector.close();
    }
  },

  // https://openai.github.io/openai-agents-js: the model provider calls client.chat.completions.
  async 'openai-agents'() {
    const { OpenAIProvider } = await import('@openai/agents-openai');
    const { Agent, Runner } = await import('@openai/agents-core');
    return withClient(async (client) => {
      const runner = new Runner({
        modelProvider: new OpenAIProvider({ openAIClient: client, useResponses: false }),
        tracingDisabled: true,
      });
      const agent = new Agent({ name: 'assistant', instructions: 'Answer briefly.', model: 'm' });
      const result = await runner.run(agent, 'hi');
      if (result.finalOutput !== 'from fallback') throw new Error(`unexpected final output ${JSON.stringify(result.finalOutput)}`);
      return 'Runner + OpenAIProvider({ openAIClient }): agent answered via the fallback';
    });
  },

  // https://ai-sdk.dev/providers/ai-sdk-providers/openai: the provider takes a fetch, not a client.
  // Each model and call kind fails over on a client of its own, so that each shows its own 502.
  async 'ai-sdk'() {
    const { createOpenAI } = await import('@ai-sdk/openai');
    const { generateText, streamText } = await import('ai');
    const models = {
      chat: ['/chat/completions', (openai) => openai.chat('gpt-test')],
      Responses: ['/responses', (openai) => openai('gpt-test')],
    };
    const calls = {
      generateText: async (model) => (await generateText({ model, prompt: 'hi', maxRetries: 0 })).text,
      streamText: async (model) => {
        const errors = []; // streamText hands errors to onError and ends textStream early
        const result = streamText({ model, prompt: 'hi', maxRetries: 0, onError: ({ error }) => errors.push(error) });
        let text = '';
        for await (const delta of result.textStream) text += delta;
        if (errors.length) throw errors[0];
        return text;
      },
    };
    const done = [];
    for (const [api, [path, modelOf]] of Object.entries(models)) {
      for (const [call, run] of Object.entries(calls)) {
        await withClient(async (client, requests) => {
          const text = await run(modelOf(createOpenAI({ apiKey: 'unused', fetch: client.fetch })));
          if (text !== 'from fallback') throw new Error(`${call} over ${api}: unexpected text ${JSON.stringify(text)}`);
          expectRequests(requests, path);
        });
        done.push(`${call} (${api})`);
      }
    }
    return `createOpenAI({ fetch: client.fetch }): ${done.join(', ')}, each answered via the fallback, one request per upstream`;
  },

  // https://docs.langchain.com/oss/javascript/integrations/chat/openai: ChatOpenAI builds its own
  // OpenAI client from `configuration`, whose fetch is ours.
  async langchain() {
    const { ChatOpenAI } = await import('@langchain/openai');
    return withClient(async (client, requests) => {
      const chat = new ChatOpenAI({ model: 'gpt-test', apiKey: 'unused', maxRetries: 0, configuration: { fetch: client.fetch } });
      const reply = await chat.invoke('hi');
      if (reply.content !== 'from fallback') throw new Error(`unexpected reply ${JSON.stringify(reply.content)}`);
      expectRequests(requests, '/chat/completions');
      return 'ChatOpenAI({ configuration: { fetch: client.fetch } }).invoke answered via the fallback, one request per upstream';
    });
  },
};

const name = process.argv[2];
if (!Object.hasOwn(checks, name)) {
  console.error(`usage: node third-party.mjs ${Object.keys(checks).join('|')}`);
  process.exit(2);
}
try {
  const detail = await checks[name]();
  if (offLimits.length) throw new Error(`tried to reach ${offLimits.join(', ')}`);
  console.log(`${name}: ok (${detail})`);
} catch (error) {
  console.error(`${name}: FAILED`, error);
  process.exitCode = 1;
}
