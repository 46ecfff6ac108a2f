/**
 * A service that is served on a public host (public, or named in routing.json) needs both an `ip`
 * and a `port`: without them there is no backend URL for Traefik.
 */
import type { DocumentChecker } from './document-checker.js';
import type { ServiceDraft } from './validate-services.js';
import { joinPath } from './describe-value.js';

/** Record a problem for every public or routed service that lacks an ip or a port. */
export function checkServiceBackends(services: ServiceDraft[], routed: ReadonlySet<string>, check: DocumentChecker): void {
  for (const service of services) {
    const why = routed.has(service.name) ? 'a service named in routing.json' : service.public ? 'a public service' : undefined;
    if (why === undefined) continue;
    const path = joinPath('$', service.name);
    // An ip or port that is present but invalid is already a problem of its own.
    if (!service.hasIp) check.report(joinPath(path, 'ip'), `is missing; ${why} needs an ip and a port for its backend URL`);
    if (!service.hasPort) check.report(joinPath(path, 'port'), `is missing; ${why} needs an ip and a port for its backend URL`);
  }
}
