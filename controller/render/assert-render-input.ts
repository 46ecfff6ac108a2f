/**
 * Defense in depth for rendering: registry validation should already have rejected every value
 * checked here, but a Registry object can be built without it (tests, future sources), and a value
 * that reaches a hosts line or a Traefik rule must never be able to add a line, a key or a router.
 * Each check throws RENDER_INVALID naming the value and where it came from.
 */
import { isIP } from 'node:net';
import { CourierError } from '../errors.js';

const LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const HOST_NAME = new RegExp(`^${LABEL}(?:\\.${LABEL})*$`);
/** Characters Traefik accepts in a router or service name without a provider meaning (`@` has one). */
const IDENTIFIER = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

/** Throw RENDER_INVALID unless `name` is a DNS host name (letters, digits, inner hyphens, dots). */
export function assertHostName(name: string, where: string): void {
  if (name.length > 253 || !HOST_NAME.test(name)) {
    throw invalid(where, name, 'is not a DNS host name (labels of letters, digits and inner hyphens, joined by dots)');
  }
}

/** Throw RENDER_INVALID unless `ip` is an IPv4 or IPv6 address. */
export function assertIpAddress(ip: string, where: string): void {
  if (isIP(ip) === 0) throw invalid(where, ip, 'is not an IP address');
}

/** Throw RENDER_INVALID unless `name` can be part of a Traefik router or service name. */
export function assertIdentifier(name: string, where: string): void {
  if (!IDENTIFIER.test(name)) {
    throw invalid(where, name, 'cannot name a Traefik router (use letters, digits, `-`, `_` and `.`, starting with a letter or digit)');
  }
}

/** Throw RENDER_INVALID unless `port` is an integer port number. */
export function assertPort(port: number, where: string): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw invalid(where, String(port), 'is not a port (1-65535)');
}

function invalid(where: string, value: string, problem: string): CourierError {
  return new CourierError('RENDER_INVALID', `${where}: ${JSON.stringify(value)} ${problem}; registry validation should have rejected it`, {
    where,
    value,
  });
}
