/**
 * A smart-HTTP git server for tests: node:http on 127.0.0.1 running stock git's `git http-backend`
 * as a CGI program for every request, serving every repository under `reposRoot` (read-only:
 * upload-pack, which fetch and clone use). Repositories are addressed as `<url>/<name>.git`.
 * Backend processes are tracked and killed by PID on stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';

const HTTP_BACKEND = '/usr/lib/git-core/git-http-backend';

/** A running server: its base URL and how to stop it. */
export interface GitHttpServer {
  /** `http://127.0.0.1:<port>`; a repository `<reposRoot>/x.git` is at `<url>/x.git`. */
  url: string;
  port: number;
  /** Close the listener and every connection, and kill running backends. */
  stop(): Promise<void>;
}

/** Serve the repositories under `reposRoot` over smart HTTP; `port` reuses a port of a stopped server. */
export async function startGitHttpServer(reposRoot: string, options: { port?: number } = {}): Promise<GitHttpServer> {
  const children = new Set<ChildProcess>();
  const server = http.createServer((req, res) => serveWithBackend(reposRoot, req, res, children));
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      // a backend can have exited (and been reaped) before Node reports its exit: kill() then
      // returns false instead of throwing ESRCH, and there is nothing left to stop
      for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
      await closed;
    },
  };
}

/** Run one request through git http-backend (CGI/1.1): request body to stdin, CGI headers and body from stdout. */
function serveWithBackend(reposRoot: string, req: http.IncomingMessage, res: http.ServerResponse, children: Set<ChildProcess>): void {
  const requestUrl = new URL(req.url ?? '/', 'http://127.0.0.1');
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    // Keep the user's and system git config out of the served behaviour.
    HOME: reposRoot,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_PROJECT_ROOT: reposRoot,
    GIT_HTTP_EXPORT_ALL: '1',
    GATEWAY_INTERFACE: 'CGI/1.1',
    SERVER_PROTOCOL: `HTTP/${req.httpVersion}`,
    REQUEST_METHOD: req.method ?? 'GET',
    PATH_INFO: decodeURIComponent(requestUrl.pathname),
    QUERY_STRING: requestUrl.search.replace(/^\?/, ''),
    CONTENT_TYPE: req.headers['content-type'] ?? '',
    REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
  };
  // Without CONTENT_LENGTH (a chunked request) http-backend reads the body until EOF.
  if (req.headers['content-length'] !== undefined) env.CONTENT_LENGTH = req.headers['content-length'];
  // A gzip-encoded body is inflated by http-backend itself when told through this variable.
  if (req.headers['content-encoding'] !== undefined) env.HTTP_CONTENT_ENCODING = req.headers['content-encoding'];
  const protocol = req.headers['git-protocol'];
  if (typeof protocol === 'string') env.HTTP_GIT_PROTOCOL = protocol;

  const child = spawn(HTTP_BACKEND, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  children.add(child);
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  child.on('error', (err) => failRequest(res, `cannot run ${HTTP_BACKEND}: ${err.message}`));
  child.on('close', () => {
    children.delete(child);
    if (!res.headersSent) failRequest(res, `git http-backend ended without CGI headers: ${stderr.trim()}`);
    else res.end();
  });
  // A client that goes away must not leave the backend writing into a closed pipe.
  child.stdin.on('error', () => {});
  req.pipe(child.stdin);
  res.on('close', () => {
    if (child.exitCode === null && child.pid !== undefined && !res.writableFinished) child.kill('SIGKILL');
  });

  let head = Buffer.alloc(0);
  let headersDone = false;
  child.stdout.on('data', (chunk: Buffer) => {
    if (headersDone) {
      res.write(chunk);
      return;
    }
    head = Buffer.concat([head, chunk]);
    const end = findHeaderEnd(head);
    if (end === undefined) return;
    headersDone = true;
    writeCgiHead(res, head.subarray(0, end.headerEnd).toString('latin1'));
    const rest = head.subarray(end.bodyStart);
    if (rest.length > 0) res.write(rest);
  });
}

/** Where the CGI header block ends (a blank line, CRLF or LF) and the body begins. */
function findHeaderEnd(buffer: Buffer): { headerEnd: number; bodyStart: number } | undefined {
  const crlf = buffer.indexOf('\r\n\r\n');
  const lf = buffer.indexOf('\n\n');
  if (crlf !== -1 && (lf === -1 || crlf < lf)) return { headerEnd: crlf, bodyStart: crlf + 4 };
  if (lf !== -1) return { headerEnd: lf, bodyStart: lf + 2 };
  return undefined;
}

/** Turn CGI response headers into the HTTP status line and headers; `Status:` sets the status. */
function writeCgiHead(res: http.ServerResponse, block: string): void {
  let status = 200;
  let message: string | undefined;
  for (const line of block.split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (name.toLowerCase() === 'status') {
      const match = /^(\d{3})\s*(.*)$/.exec(value);
      if (match) {
        status = Number(match[1]);
        message = match[2] || undefined;
      }
    } else {
      res.appendHeader(name, value);
    }
  }
  res.statusCode = status;
  if (message !== undefined) res.statusMessage = message;
  res.flushHeaders();
}

/** Answer 502 with `message` when nothing has been sent yet. */
function failRequest(res: http.ServerResponse, message: string): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(502, { 'content-type': 'text/plain' });
  res.end(`${message}\n`);
}
