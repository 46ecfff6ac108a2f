/**
 * The HTTP guard on a real server: the bearer token (every path but the probes and the static
 * dashboard page, /metrics only with protectMetrics), the Host check of a loopback listener (DNS
 * rebinding), the token file reader, the start-up warning, and the server timeouts that keep
 * slow clients (slowloris) from starving /healthz.
 */
import http from 'node:http';
import net from 'node:net';
import { mkdtemp, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import type { Logger } from '../../controller/logger.js';
import { afterEach, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer, type HttpServerOptions } from '../../controller/http/start-http-server.js';
import { isLoopbackHost } from '../../controller/http/guard-request.js';
import { readHttpToken } from '../../controller/http/read-http-token.js';
import { warnIfUnguarded } from '../../controller/http/warn-if-unguarded.js';
import { isCourierError } from '../../controller/errors.js';
import { createFakeDaemon } from './create-fake-daemon.js';

const TOKEN = 'c0ffee5a1t-token-0123456789abcdef';
const servers: HttpServer[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(overrides: Partial<HttpServerOptions> = {}): Promise<HttpServer> {
  const server = await startHttpServer(createFakeDaemon().options(overrides));
  servers.push(server);
  return server;
}

/** A raw request with any headers (node:http sets Host from the URL unless given). */
function request(url: string, options: { method?: string; headers?: Record<string, string>; timeout?: number } = {}): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: options.method ?? 'GET', headers: options.headers, timeout: options.timeout ?? 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        // the event stream never ends by itself: its first frame is enough
        if (res.headers['content-type']?.startsWith('text/event-stream') && body.includes('event: status')) res.destroy();
      });
      const done = () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body });
      res.on('end', done);
      res.on('close', done);
    });
    req.on('timeout', () => req.destroy(new Error(`${url}: no response within ${options.timeout ?? 5_000} ms`)));
    req.on('error', reject);
    req.end();
  });
}

const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
const API_PATHS: [string, string][] = [
  ['GET', '/api/status'],
  ['GET', '/api/revisions'],
  ['GET', '/api/events'],
  ['POST', '/api/reconcile'],
  ['GET', '/no-such-path'],
];

describe('the bearer token (http.tokenFile)', () => {
  it('guards every API path; the probes, the static dashboard page and (by default) /metrics stay open', async () => {
    const server = await start({ token: TOKEN });
    for (const [method, p] of API_PATHS) {
      const res = await request(`${server.url}${p}`, { method });
      expect(res.status, `${method} ${p}`).toBe(401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="courier"');
      expect(JSON.parse(res.body).error.code).toBe('UNAUTHORIZED');
      expect(res.body).not.toContain(TOKEN);
    }
    for (const p of ['/healthz', '/readyz', '/', '/metrics']) expect((await request(`${server.url}${p}`)).status, p).toBe(200);
  });

  it('lets a request with the right token through and refuses a wrong one as invalid_token', async () => {
    const server = await start({ token: TOKEN });
    expect((await request(`${server.url}/api/status`, { headers: bearer(TOKEN) })).status).toBe(200);
    expect((await request(`${server.url}/api/status`, { headers: { authorization: `bearer ${TOKEN}` } })).status).toBe(200);
    expect((await request(`${server.url}/api/events`, { headers: bearer(TOKEN) })).body).toContain('event: status');
    expect((await request(`${server.url}/api/reconcile`, { method: 'POST', headers: bearer(TOKEN) })).status).toBe(202);
    for (const wrong of [TOKEN.slice(0, -1), `${TOKEN}x`, TOKEN.toUpperCase(), '']) {
      const res = await request(`${server.url}/api/status`, { headers: bearer(wrong) });
      expect(res.status, wrong).toBe(401);
      if (wrong !== '') expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    }
    expect((await request(`${server.url}/api/status`, { headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` } })).status).toBe(401);
  });

  it('with protectMetrics, /metrics needs the token too; the probes still do not', async () => {
    const server = await start({ token: TOKEN, protectMetrics: true });
    expect((await request(`${server.url}/metrics`)).status).toBe(401);
    const res = await request(`${server.url}/metrics`, { headers: bearer(TOKEN) });
    expect(res.status).toBe(200);
    expect(res.body).toContain('courier_registry_valid');
    expect((await request(`${server.url}/healthz`)).status).toBe(200);
    expect((await request(`${server.url}/readyz`)).status).toBe(200);
  });

  it('without a token everything is open, as before', async () => {
    const server = await start();
    for (const [method, p] of API_PATHS.slice(0, 4)) expect((await request(`${server.url}${p}`, { method })).status, p).toBeLessThan(300);
  });
});

describe('the Host check of a loopback listener (DNS rebinding)', () => {
  it('refuses a request whose Host names anything but a loopback host, on every path', async () => {
    const server = await start({ token: TOKEN });
    for (const host of ['evil.example', `evil.example:${server.port}`, '10.0.0.1', '127.0.0.1.evil.example', 'localhost.evil.example']) {
      for (const p of ['/healthz', '/', '/api/status']) {
        const res = await request(`${server.url}${p}`, { headers: { host, ...bearer(TOKEN) } });
        expect(res.status, `${host} ${p}`).toBe(403);
        expect(JSON.parse(res.body).error.message).toContain('DNS rebinding');
      }
    }
  });

  it('answers loopback names with and without a port', async () => {
    const server = await start();
    for (const host of ['localhost', `localhost:${server.port}`, `127.0.0.1:${server.port}`, '127.9.9.9', `[::1]:${server.port}`, 'dash.localhost']) {
      expect((await request(`${server.url}/api/status`, { headers: { host } })).status, host).toBe(200);
    }
  });

  it('does not restrict Host on a non-loopback listener (the token guards it there)', async () => {
    const server = await start({ listen: '0.0.0.0:0', token: TOKEN });
    const url = `http://127.0.0.1:${server.port}`;
    expect((await request(`${url}/api/status`, { headers: { host: 'courier.kube-system.svc', ...bearer(TOKEN) } })).status).toBe(200);
    expect((await request(`${url}/api/status`, { headers: { host: 'courier.kube-system.svc' } })).status).toBe(401);
  });

  it.each([
    ['127.0.0.1', true],
    ['127.200.1.3', true],
    ['localhost', true],
    ['LOCALHOST', true],
    ['a.localhost', true],
    ['[::1]', true],
    ['::1', true],
    ['::ffff:127.0.0.1', true],
    ['0.0.0.0', false],
    ['10.1.2.3', false],
    ['128.0.0.1', false],
    ['localhost.example', false],
    ['::', false],
    ['example.com', false],
  ])('isLoopbackHost(%j) is %s', (host, expected) => expect(isLoopbackHost(host)).toBe(expected));
});

describe('readHttpToken', () => {
  async function tokenFile(content: string): Promise<string> {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'courier-token-'));
    const file = path.join(dir, 'token');
    await writeFile(file, content, { mode: 0o600 });
    return file;
  }

  async function configError(http: { tokenFile?: string }): Promise<{ code: string; message: string; data: Record<string, unknown> }> {
    const err: unknown = await readHttpToken(http).then(
      () => undefined,
      (e: unknown) => e,
    );
    if (!isCourierError(err)) throw new Error(`expected a CourierError, got ${String(err)}`);
    return err;
  }

  it('reads the token without its trailing newline, and undefined when the key is unset', async () => {
    expect(await readHttpToken({})).toBeUndefined();
    expect(await readHttpToken({ tokenFile: await tokenFile(`${TOKEN}\n`) })).toBe(TOKEN);
    expect(await readHttpToken({ tokenFile: await tokenFile(TOKEN) })).toBe(TOKEN);
  });

  it.each([
    ['an empty file', '', /empty/],
    ['a token with a space', 'abc def 0123456789abcdef', /characters a bearer token cannot carry/],
    ['two lines', `${TOKEN}\n${TOKEN}\n`, /characters a bearer token cannot carry/],
    ['a short token', 'abc123', /at least 16/],
  ])('refuses %s with CONFIG_INVALID naming http.tokenFile, never quoting the token', async (_what, content, message) => {
    const file = await tokenFile(content);
    const err = await configError({ tokenFile: file });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toMatch(message);
    expect(err.message).toContain(`http.tokenFile ${file}`);
    if (content.length > 0) expect(err.message).not.toContain(content.trim().split(/\s/)[0]);
  });

  it('refuses a missing file with CONFIG_INVALID saying how to create it', async () => {
    const err = await configError({ tokenFile: '/nonexistent/courier/token' });
    expect(err.code).toBe('CONFIG_INVALID');
    expect(err.message).toContain('ENOENT');
    expect(err.message).toContain('openssl rand -hex 32');
    expect(err.data).toMatchObject({ key: 'http.tokenFile' });
  });
});

describe('the start-up warning', () => {
  function capture(): { log: Logger; lines: () => { level: number; msg: string }[] } {
    const chunks: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        chunks.push(chunk.toString());
        done();
      },
    });
    return { log: pino({ level: 'info' }, sink), lines: () => chunks.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l) as { level: number; msg: string }) };
  }

  it('warns when a non-loopback listener has no token, and only then', () => {
    const cases: [string, string | undefined, boolean][] = [
      ['0.0.0.0:9470', undefined, true],
      ['[::]:9470', undefined, true],
      ['10.0.0.5:9470', undefined, true],
      ['0.0.0.0:9470', TOKEN, false],
      ['127.0.0.1:9470', undefined, false],
      ['[::1]:9470', undefined, false],
      ['localhost:9470', undefined, false],
    ];
    for (const [listen, token, warned] of cases) {
      const { log, lines } = capture();
      warnIfUnguarded(listen, token, log);
      const warnings = lines().filter((l) => l.level === 40);
      expect(warnings.length, listen).toBe(warned ? 1 : 0);
      if (warned) expect(warnings[0]!.msg).toContain('http.tokenFile');
    }
  });
});

describe('slow clients (slowloris)', () => {
  /** Open a connection that sends a request line and then one header byte every `everyMs`, never finishing. */
  function slowClient(port: number, everyMs: number): Promise<{ closed: Promise<void> }> {
    return new Promise((resolve, reject) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.write('GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ');
        const timer = setInterval(() => socket.writable && socket.write('a'), everyMs);
        const closed = new Promise<void>((done) => socket.once('close', () => done()));
        void closed.then(() => clearInterval(timer));
        resolve({ closed });
      });
      socket.on('error', () => undefined);
      socket.once('error', reject);
      sockets.push(socket);
    });
  }

  it('keeps /healthz answering within 1 s while 300 slow clients hold connections open', async () => {
    const server = await start();
    await Promise.all(Array.from({ length: 300 }, () => slowClient(server.port, 200)));
    for (let i = 0; i < 5; i++) {
      const res = await request(`${server.url}/healthz`, { timeout: 1_000 });
      expect(res.status).toBe(200);
    }
  });

  it('drops a client that does not finish its headers within headersTimeout', async () => {
    const server = await start({ timeouts: { headersTimeout: 500, requestTimeout: 1_000, checkInterval: 100 } });
    const clients = await Promise.all(Array.from({ length: 20 }, () => slowClient(server.port, 50)));
    // every slow connection is closed by the server (the test would time out otherwise)
    await Promise.all(clients.map((c) => c.closed));
    expect((await request(`${server.url}/healthz`)).status).toBe(200);
  });

  it('ships bounded defaults: headers within 10 s, a request within 30 s, idle keep-alive 5 s', async () => {
    const { SERVER_TIMEOUTS } = await import('../../controller/http/start-http-server.js');
    expect(SERVER_TIMEOUTS).toEqual({ headersTimeout: 10_000, requestTimeout: 30_000, keepAliveTimeout: 5_000, checkInterval: 1_000 });
  });
});
