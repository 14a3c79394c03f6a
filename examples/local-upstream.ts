/**
 * A tiny fake OpenAI upstream for the demo, so it runs with no API key and no network.
 * While "down" it answers like a reverse proxy whose backend is gone: 502 with nginx's HTML page.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LocalUpstream {
  /** Base URL including `/v1`, ready for `baseURL`. */
  readonly url: string;
  setDown(down: boolean): void;
  close(): Promise<void>;
}

const NGINX_502 =
  '<html>\r\n<head><title>502 Bad Gateway</title></head>\r\n<body>\r\n' +
  '<center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n';

function send(res: ServerResponse, status: number, contentType: string, body: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

export async function startLocalUpstream(name: string): Promise<LocalUpstream> {
  let down = false;
  const server = createServer((req, res) => {
    req.resume(); // the body is not needed, but it must be drained for keep-alive to work
    req.on('end', () => {
      if (down) return send(res, 502, 'text/html', NGINX_502, { server: 'nginx' });
      const route = `${req.method} ${new URL(req.url ?? '/', 'http://x').pathname}`;
      if (route === 'GET /v1/models') {
        const data = [{ id: 'dall-e-3', object: 'model', created: 1, owned_by: name }];
        return send(res, 200, 'application/json', JSON.stringify({ object: 'list', data }));
      }
      if (route === 'POST /v1/images/generations') {
        const data = [{ url: `https://example.invalid/${name}.png` }];
        return send(res, 200, 'application/json', JSON.stringify({ created: Math.floor(Date.now() / 1000), data }));
      }
      const error = { message: `Unknown route: ${route}`, type: 'invalid_request_error', param: null, code: 'not_found' };
      send(res, 404, 'application/json', JSON.stringify({ error }));
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', resolve);
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    setDown: (value) => {
      down = value;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // the SDK keeps connections alive; don't wait for them to idle out
      }),
  };
}
