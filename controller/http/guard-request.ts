/**
 * Who may ask the daemon what: the HTTP guard in front of every route. Two checks, in order:
 *  - DNS rebinding: a listener on a loopback address answers only requests whose Host header names
 *    a loopback host (`localhost`, `127.x.y.z`, `[::1]`), so a web page whose domain was re-pointed
 *    at 127.0.0.1 cannot read the API through the visitor's browser;
 *  - the bearer token (`http.tokenFile`): when set, every path but the probes (`/healthz`,
 *    `/readyz`), the static dashboard page (`/`, it holds no data and asks for the token) and,
 *    unless `http.protectMetrics`, `/metrics` needs `Authorization: Bearer <token>`, compared in
 *    constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';

/** A refused request: the status, the error body and any extra headers to send. */
export interface Denial {
  status: 401 | 403;
  code: 'UNAUTHORIZED' | 'FORBIDDEN';
  message: string;
  headers: Record<string, string>;
}

/** What the guard needs to know about the server. */
export interface GuardOptions {
  /** The host the server listens on (as in http.listen). */
  listenHost: string;
  /** The bearer token; undefined leaves the API open (the daemon warns on a non-loopback address). */
  token?: string;
  /** Also require the token for `/metrics`. */
  protectMetrics?: boolean;
}

/** Paths anyone who can reach the port may read: the probes and the dashboard's static page. */
const OPEN_PATHS = new Set(['/healthz', '/readyz', '/']);

/** True for a loopback address or name: 127.0.0.0/8, ::1, localhost (and names under .localhost). */
export function isLoopbackHost(host: string): boolean {
  const bare = host.replace(/^\[(.*)\]$/, '$1').toLowerCase();
  if (bare === 'localhost' || bare.endsWith('.localhost')) return true;
  if (isIP(bare) === 4) return bare.startsWith('127.');
  if (isIP(bare) === 6) return bare === '::1' || bare === '0:0:0:0:0:0:0:1' || /^::ffff:127\./.test(bare);
  return false;
}

/** Build the guard: it returns a Denial for a request that must be refused, else undefined. */
export function createRequestGuard(options: GuardOptions): (req: IncomingMessage, pathname: string) => Denial | undefined {
  const loopback = isLoopbackHost(options.listenHost);
  const expected = options.token === undefined ? undefined : digest(options.token);
  return (req, pathname): Denial | undefined => {
    const host = req.headers.host;
    if (loopback && host !== undefined && !isLoopbackHost(hostName(host))) {
      return {
        status: 403,
        code: 'FORBIDDEN',
        message: `Host "${host.slice(0, 100)}" is not a loopback name; this daemon listens on loopback and answers only requests for localhost, 127.x.y.z or [::1] (DNS rebinding protection)`,
        headers: {},
      };
    }
    if (expected === undefined || OPEN_PATHS.has(pathname) || (pathname === '/metrics' && !options.protectMetrics)) return undefined;
    const presented = bearerToken(req.headers.authorization);
    // compare digests: equal lengths for timingSafeEqual, and no early exit on the first differing byte
    if (presented !== undefined && timingSafeEqual(digest(presented), expected)) return undefined;
    return {
      status: 401,
      code: 'UNAUTHORIZED',
      message: presented === undefined ? `${pathname} needs Authorization: Bearer <token> (the token in http.tokenFile)` : 'the bearer token does not match http.tokenFile',
      headers: { 'www-authenticate': presented === undefined ? 'Bearer realm="courier"' : 'Bearer realm="courier", error="invalid_token"' },
    };
  };
}

/** The host part of a Host header (`name:port`, `[v6]:port`, or bare). */
function hostName(header: string): string {
  const v6 = /^\[([^\]]*)\](?::\d*)?$/.exec(header);
  if (v6) return `[${v6[1]}]`;
  return header.replace(/:\d*$/, '');
}

/** The token of an `Authorization: Bearer <token>` header (scheme case-insensitive), else undefined. */
function bearerToken(header: string | undefined): string | undefined {
  const match = header === undefined ? null : /^Bearer +(\S+) *$/i.exec(header);
  return match?.[1];
}

/** SHA-256 of a token. */
function digest(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}
