// A fast OpenAI-shaped upstream for benchmarks, run in its own process so that the client under
// test does not share an event loop with it. Controlled over IPC: { mode: 'ok' | '502' | 'hang' | 'hold' }
// ('hold' keeps each answer until { release: true }, for calls held in flight),
// { every502: N } (answer 502 to every Nth request) and { delayMs } (time to answer). Reports its request counts on demand.
import { createServer } from 'node:http';

const name = process.argv[2] ?? 'upstream';
let mode = 'ok';
let every502 = 0;
let delayMs = 0;
let served = 0;
let received = 0;
let receivedWhileDown = 0;
const held = [];

const completion = JSON.stringify({
  id: 'chatcmpl-bench',
  object: 'chat.completion',
  created: 1,
  model: 'bench',
  choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: `hello from ${name}` } }],
  usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 },
});
const chunk = (i) =>
  `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'bench', choices: [{ index: 0, delta: { content: `t${i} ` }, finish_reason: null }] })}\n\n`;
const CHUNKS = Array.from({ length: 199 }, (_, i) => chunk(i)).join('');
const LAST = `data: ${JSON.stringify({ id: 'chatcmpl-bench', object: 'chat.completion.chunk', created: 1, model: 'bench', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] })}\n\ndata: [DONE]\n\n`;
const BAD_GATEWAY =
  '<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>';

const server = createServer((req, res) => {
  const body = [];
  req.on('data', (c) => body.push(c));
  req.on('end', () => {
    received++;
    if (mode === 'hang') return;
    if (mode === '502' || (every502 && received % every502 === 0)) {
      if (mode === '502') receivedWhileDown++;
      res.writeHead(502, { 'content-type': 'text/html', 'content-length': Buffer.byteLength(BAD_GATEWAY) }).end(BAD_GATEWAY);
      return;
    }
    served++;
    if (mode === 'hold') held.push(() => answer(req, res, body));
    else if (delayMs) setTimeout(() => answer(req, res, body), delayMs);
    else answer(req, res, body);
  });
});

function answer(req, res, body) {
  {
    if (req.url?.endsWith('/models')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"object":"list","data":[]}');
      return;
    }
    const stream = Buffer.concat(body).includes('"stream":true');
    if (stream) {
      // 200 events in a few writes: the client's parsing is what is measured, not the server's.
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req_bench' });
      res.write(CHUNKS);
      res.end(LAST);
      return;
    }
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(completion),
      'x-request-id': 'req_bench',
    });
    res.end(completion);
  }
}
server.keepAliveTimeout = 60_000;
// A backlog above the default 511: a thousand calls held in flight open a thousand connections at once.
server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => process.send({ port: server.address().port }));

process.on('message', (msg) => {
  if (msg.mode) mode = msg.mode;
  if ('every502' in msg) every502 = msg.every502;
  if ('delayMs' in msg) delayMs = msg.delayMs;
  if (msg.release) for (const release of held.splice(0)) release();
  if (msg.reset) served = received = receivedWhileDown = 0;
  if (msg.stats) process.send({ stats: { served, received, receivedWhileDown, held: held.length } });
  if (msg.exit) {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});
