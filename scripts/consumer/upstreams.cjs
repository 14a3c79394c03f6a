// Two loopback upstreams for the packaging smoke test: a primary that answers 502, a healthy fallback.
const http = require('node:http');

function listen(handler) {
  return new Promise((resolve) => {
    const server = http.createServer(handler).listen(0, '127.0.0.1', () => resolve(server));
  });
}

exports.start = async function start() {
  const primary = await listen((req, res) => {
    res.writeHead(502, { 'content-type': 'text/html' }).end('<html>502 Bad Gateway</html>');
  });
  const fallback = await listen((req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'c1',
          object: 'chat.completion',
          created: 1,
          model: 'm',
          choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: 'from fallback' } }],
        }),
      );
    });
  });
  const url = (server) => `http://127.0.0.1:${server.address().port}/v1`;
  return {
    primaryURL: url(primary),
    fallbackURL: url(fallback),
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
