/**
 * domains.json: `{ "domains": { "<domain>": { description?, registered?, status? } },
 * "vps_nodes": [ { tailscale_ip, public_ip, location?, registered?, status? } ] }` as MyNodeOne's
 * multi-domain-registry.sh writes it. Unknown fields are ignored.
 */
import type { VpsEndpoint } from './model.js';
import type { DocumentChecker } from './document-checker.js';
import { describeValue, joinPath } from './describe-value.js';

/** What domains.json holds, for the cross-document checks. */
export interface DomainsResult {
  /** False when the document could not be read as an object: cross-checks against it are skipped. */
  usable: boolean;
  /** Valid domain names, in document order. */
  domains: string[];
  /** Every key of `domains` (valid or not), so routing does not repeat a problem already reported. */
  names: Set<string>;
  /** Valid edge endpoints, in document order. */
  endpoints: VpsEndpoint[];
  /** Every string `tailscale_ip` listed (valid or not). */
  tailscaleIps: Set<string>;
}

/** Validate domains.json (`undefined` when absent), recording problems on `check`. */
export function validateDomains(value: unknown, check: DocumentChecker): DomainsResult {
  const result: DomainsResult = { usable: true, domains: [], names: new Set(), endpoints: [], tailscaleIps: new Set() };
  if (value === undefined) return result;
  const document = check.readObject('$', value, '{"domains": {...}, "vps_nodes": [...]}', { required: true });
  if (document === undefined) return { ...result, usable: false };

  // MyNodeOne's first layout was the domains object itself, which its init_multi_domain_registry
  // migrates to {"domains": <that object>, "vps_nodes": []}; read it the same way.
  const firstLayout = document.domains === undefined && document.vps_nodes === undefined && Object.keys(document).length > 0;
  const domainsPath = firstLayout ? '$' : '$.domains';
  const domains = check.readObject(domainsPath, firstLayout ? document : document.domains, 'domain names mapped to {"description"}');
  for (const [domain, entry] of Object.entries(domains ?? {})) {
    const path = joinPath(domainsPath, domain);
    result.names.add(domain);
    if (check.readText(path, domain, 'domain') !== undefined) result.domains.push(domain);
    check.readObject(path, entry, 'a domain entry such as {"description": "..."}', { required: true });
  }

  const vpsNodes = check.readArray('$.vps_nodes', document.vps_nodes, 'VPS edges: [{"tailscale_ip", "public_ip", "location"}]') ?? [];
  const firstSeen = new Map<string, string>();
  vpsNodes.forEach((entryValue, index) => {
    const path = joinPath('$.vps_nodes', index);
    const entry = check.readObject(path, entryValue, 'a VPS edge {"tailscale_ip", "public_ip", "location"}', { required: true });
    if (entry === undefined) return;
    if (typeof entry.tailscale_ip === 'string') result.tailscaleIps.add(entry.tailscale_ip);
    const tailscaleIp = check.readText(joinPath(path, 'tailscale_ip'), entry.tailscale_ip, 'ipv4', { required: true });
    const publicIp = check.readText(joinPath(path, 'public_ip'), entry.public_ip, 'ipv4', { required: true });
    const location = check.readText(joinPath(path, 'location'), entry.location, 'location');
    if (tailscaleIp !== undefined) {
      const first = firstSeen.get(tailscaleIp);
      if (first !== undefined) {
        check.report(joinPath(path, 'tailscale_ip'), `${describeValue(tailscaleIp)} is already listed at ${first}; each VPS may appear once`);
        return;
      }
      firstSeen.set(tailscaleIp, path);
    }
    if (tailscaleIp === undefined || publicIp === undefined) return;
    result.endpoints.push(location === undefined ? { tailscaleIp, publicIp } : { tailscaleIp, publicIp, location });
  });
  return result;
}
