/**
 * The small pieces every route of the daemon's HTTP server shares: the route type, reading a
 * bounded request body, the same-origin and loopback tests, and sending text, JSON and errors.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { isCourierError } from '../errors.js';

/** One route's handlers by method. */
export type Route = Partial<Record<'GET' | 'POST', (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> | void>>;

/** The request body as text, at most `max` bytes (more is a 400 via an empty parse). */
export async function readBody(req: IncomingMessage, max: number): Promise<string> {
  let body = '';
  for await (const chunk of req) {
    body += (chunk as Buffer).toString('utf8');
    if (body.length > max) return '';
  }
  return body;
}

/** A request body parsed as a JSON object (empty → {}); undefined when it is not one or too large. */
export async function readJsonBody(req: IncomingMessage): Promise<Record<string, unknown> | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > 65_536) return undefined;
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** 127.0.0.0/8, ::1 or their IPv4-mapped forms. */
export function isLoopback(address: string | undefined): boolean {
  if (!address) return false;
  const v4 = address.startsWith('::ffff:') ? address.slice(7) : address;
  return v4.startsWith('127.') || address === '::1';
}

/** True when the request has no Origin header or one whose host is the request's Host. */
export function isSameOrigin(req: IncomingMessage): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) return true;
  try {
    return new URL(origin).host === req.headers.host;
  } catch {
    return false;
  }
}

/** The error body of a 500: a CourierError's code and message; anything else stays internal (it is in the log). */
export function describeError(err: unknown): { code: string; message: string } {
  if (isCourierError(err)) return { code: err.code, message: err.message };
  return { code: 'INTERNAL', message: 'internal error; see the daemon log' };
}

/** Send a plain-text response. */
export function sendText(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end(body);
}

/** Send a JSON response. */
export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' }).end(JSON.stringify(body) + '\n');
}
