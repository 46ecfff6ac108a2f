/** The start-up warning for an HTTP API anyone on the network can use. */
import type { Logger } from '../logger.js';
import { isLoopbackHost } from './guard-request.js';

/** Log a warning when `listen` is not a loopback address and no bearer token guards the API. */
export function warnIfUnguarded(listen: string, token: string | undefined, log: Logger): void {
  if (token !== undefined) return;
  const host = listen.replace(/:\d+$/, '');
  if (isLoopbackHost(host)) return;
  log.warn(
    { stage: 'http', listen },
    'the HTTP API listens on a non-loopback address without a token: anyone who can reach it can read node status and start reconciles; set http.tokenFile (and http.protectMetrics)',
  );
}
