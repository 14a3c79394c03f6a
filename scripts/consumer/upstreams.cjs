// Two loopback upstreams for the packaging smoke test: a primary that answers 502, a healthy fallback.
const http = require('node:http');

function listen(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler).listen(0, '127.0.0.1', () => resolve(server));
  });
}

// The fallback's answer to the host libraries (AI SDK, LangChain): a chat completion, or a Responses
// object for /responses, each as SSE when the body says "stream": true, ending in the frame the
// client's stream check waits for ([DONE], response.completed). The SDK-based checks get the chat
// completion JSON they always got.
const TEXT = 'from fallback';
function answer(path, body) {
  const chunks = ['from ', 'fallback'];
  if (path.endsWith('/responses')) {
    const part = { type: 'output_text', text: TEXT, annotations: [] };
    const message = { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [part] };
    const usage = { input_tokens: 1, output_tokens: 2, total_tokens: 3 };
    const response = { id: 'resp_1', object: 'response', created_at: 1, model: 'm', status: 'completed', output: [message], usage };
    if (!body.stream) return { json: response };
    const ids = { item_id: 'msg_1', output_index: 0, content_index: 0 };
    const events = [
      { type: 'response.created', response: { ...response, status: 'in_progress', output: [], usage: null } },
      { type: 'response.output_item.added', output_index: 0, item: { ...message, status: 'in_progress', content: [] } },
      ...chunks.map((delta) => ({ type: 'response.output_text.delta', ...ids, delta })),
      { type: 'response.output_item.done', output_index: 0, item: message },
      { type: 'response.completed', response },
    ];
    return { sse: events.map((e, i) => `event: ${e.type}\ndata: ${JSON.stringify({ ...e, sequence_number: i })}\n\n`) };
  }
  const base = { id: 'c1', created: 1, model: 'm' };
  if (!body.stream) {
    const choices = [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: TEXT } }];
    return { json: { ...base, object: 'chat.completion', choices } };
  }
  const chunk = (delta, finish_reason) => ({ ...base, object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason }] });
  const frames = [chunk({ role: 'assistant', content: chunks[0] }, null), chunk({ content: chunks[1] }, 'stop')];
  // Model "cut": the stream ends after its first frame, before any terminal one.
  if (body.model === 'cut') return { sse: [`data: ${JSON.stringify(frames[0])}\n\n`] };
  return { sse: [...frames.map((f) => `data: ${JSON.stringify(f)}\n\n`), 'data: [DONE]\n\n'] };
}

exports.start = async function start() {
  // What each upstream received, `METHOD path authorization`, for checks that count requests exactly.
  const requests = { primary: [], fallback: [] };
  const note = (name, req) => requests[name].push(`${req.method} ${req.url} ${req.headers.authorization}`);
  const primary = await listen((req, res) => {
    note('primary', req);
    res.writeHead(502, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
  });
  const fallback = await listen((req, res) => {
    note('fallback', req);
    const body = [];
    req.on('data', (c) => body.push(c));
    req.on('end', () => {
      const text = Buffer.concat(body).toString('utf8');
      const reply = answer(req.url, text ? JSON.parse(text) : {});
      if (reply.json) return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(reply.json));
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.end(reply.sse.join(''));
    });
  });
  const url = (server) => `http://127.0.0.1:${server.address().port}/v1`;
  return {
    primaryURL: url(primary),
    fallbackURL: url(fallback),
    requests,
    close: () => {
      primary.close();
      fallback.close();
    },
  };
};

exports.check = async function check(ResilientOpenAI, OpenAI, label) {
  const { primaryURL, fallbackURL, close } = await exports.start();
  const client = new ResilientOpenAI({
    apiKey: 'sk-pack-123456',
    baseURL: primaryURL,
    fallback: { apiKey: 'sk-pack-654321', baseURL: fallbackURL },
    healthCheck: false,
  });
  const switched = [];
  client.on('switched', (e) => switched.push(`${e.from}->${e.to}`));
  const completion = await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  close();
  const ok =
    client instanceof OpenAI && completion.choices[0].message.content === 'from fallback' && switched.join() === 'primary->fallback';
  if (!ok) throw new Error(`${label}: unexpected result ${JSON.stringify({ switched, completion })}`);
  console.log(`${label}: ok (instanceof OpenAI, failed over ${switched.join()})`);
};

// The Redis backend is a file of its own in the ESM build, loaded on first use: it must be in the
// tarball and load from there. A stand-in node-redis client records what the coordination sends;
// its first re-read of the shared state (MGET) comes from the loaded backend.
exports.checkRedis = async function checkRedis(createRedisCoordination, ResilientOpenAI, label) {
  const sent = [];
  const subscriber = {
    on() {},
    connect: () => Promise.resolve(),
    subscribe: () => Promise.resolve(),
    unsubscribe: () => Promise.resolve(),
    destroy() {},
  };
  const redis = { isReady: true, sendCommand: (args) => (sent.push(args[0]), Promise.resolve(null)), duplicate: () => subscriber, on() {} };
  const coordination = createRedisCoordination({ client: redis, instanceId: 'pack' });
  const client = new ResilientOpenAI({ apiKey: 'sk-pack-123456', baseURL: 'http://127.0.0.1:9/v1', coordination });
  // Background work starts with the first request or probe (none at construction).
  await client.checkPrimary().catch(() => {});
  const deadline = Date.now() + 10_000;
  while (!sent.includes('MGET') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  await client.close();
  if (!sent.includes('MGET')) throw new Error(`${label}: the Redis backend never sent a command (sent: ${sent.join() || 'nothing'})`);
  console.log(`${label}: ok (the Redis backend loaded and re-read the shared state)`);
};

// The telemetry recorders are a file of their own in the ESM build too, loaded by the first call
// that has a provider: a stand-in tracer provider hears the call's span start and end.
exports.checkTelemetry = async function checkTelemetry(ResilientOpenAI, label) {
  const { fallbackURL, close } = await exports.start();
  const spans = [];
  const span = (name) => {
    const s = {
      name,
      ended: false,
      setAttribute: () => s,
      setAttributes: () => s,
      addEvent: () => s,
      setStatus: () => s,
      isRecording: () => true,
    };
    s.end = () => (s.ended = true);
    spans.push(s);
    return s;
  };
  const tracerProvider = { getTracer: () => ({ startSpan: (name) => span(name) }) };
  const client = new ResilientOpenAI({ apiKey: 'sk-pack-123456', baseURL: fallbackURL, healthCheck: false, telemetry: { tracerProvider } });
  await client.chat.completions.create({ model: 'm', messages: [{ role: 'user', content: 'hi' }] });
  close();
  await client.close();
  const names = spans.map((s) => `${s.name}${s.ended ? '' : ' (not ended)'}`).join(', ');
  if (names !== 'chat m, POST') throw new Error(`${label}: unexpected spans: ${names || 'none'}`);
  console.log(`${label}: ok (the telemetry recorders loaded: ${names})`);
};

// The stream guard is a file of its own in the ESM build too, loaded by the first stream: a whole
// stream reads through it, and a cut one fails with the entry's own IncompleteStreamError (the
// chunk imports the class from the entry, so `instanceof` holds).
exports.checkStreams = async function checkStreams(ResilientOpenAI, IncompleteStreamError, label) {
  const { fallbackURL, close } = await exports.start();
  const client = new ResilientOpenAI({ apiKey: 'sk-pack-123456', baseURL: fallbackURL, healthCheck: false });
  const read = async (model) => {
    let text = '';
    const stream = await client.chat.completions.create({ model, messages: [{ role: 'user', content: 'hi' }], stream: true });
    for await (const chunk of stream) text += chunk.choices[0].delta.content ?? '';
    return text;
  };
  const whole = await read('m');
  const cut = await read('cut').then(
    (text) => `no error (${text})`,
    (error) => error,
  );
  close();
  await client.close();
  if (whole !== 'from fallback') throw new Error(`${label}: the stream read ${JSON.stringify(whole)}`);
  if (!(cut instanceof IncompleteStreamError))
    throw new Error(`${label}: a cut stream ended with ${String(cut)}, not IncompleteStreamError`);
  console.log(`${label}: ok (the stream guard loaded: a whole stream, and a cut one as IncompleteStreamError)`);
};
