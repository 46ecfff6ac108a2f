/**
 * services.json: `{ "<name>": { subdomain, ip?, port?, public?, namespace?, service?, updated? } }`
 * as MyNodeOne's service-registry.sh writes it. Unknown fields (`updated`, …) are ignored.
 */
import type { DocumentChecker } from './document-checker.js';
import { joinPath } from './describe-value.js';

/** One services.json entry as far as it validated: a field is set only when it is valid. */
export interface ServiceDraft {
  /** The key in services.json (valid or not). */
  name: string;
  subdomain?: string;
  ip?: string;
  port?: number;
  public: boolean;
  namespace?: string;
  /** Whether the entry has an ip / port at all (an invalid one is already a problem of its own). */
  hasIp: boolean;
  hasPort: boolean;
}

/** What services.json holds, for the cross-document checks. */
export interface ServicesResult {
  /** False when the document could not be read as an object: cross-checks against it are skipped. */
  usable: boolean;
  /** Every key in services.json, so routing can tell an unknown service from an invalid one. */
  names: Set<string>;
  /** Entries that are objects, in document order. */
  drafts: ServiceDraft[];
}

/** Validate services.json (`undefined` when absent), recording problems on `check`. */
export function validateServices(value: unknown, check: DocumentChecker): ServicesResult {
  if (value === undefined) return { usable: true, names: new Set(), drafts: [] };
  const services = check.readObject('$', value, 'service names mapped to {"subdomain", "ip", "port", "public"}', { required: true });
  if (services === undefined) return { usable: false, names: new Set(), drafts: [] };

  const drafts: ServiceDraft[] = [];
  for (const [name, entryValue] of Object.entries(services)) {
    const path = joinPath('$', name);
    check.readText(path, name, 'serviceName');
    const entry = check.readObject(path, entryValue, 'a service entry with "subdomain", "ip", "port", "public"', { required: true });
    if (entry === undefined) continue;
    const draft: ServiceDraft = {
      name,
      subdomain: check.readText(joinPath(path, 'subdomain'), entry.subdomain, 'subdomain', { required: true }),
      ip: check.readText(joinPath(path, 'ip'), entry.ip, 'ipv4'),
      port: check.readPort(joinPath(path, 'port'), entry.port),
      public: check.readBoolean(joinPath(path, 'public'), entry.public) ?? false,
      namespace: check.readText(joinPath(path, 'namespace'), entry.namespace, 'kubernetesName'),
      hasIp: entry.ip !== undefined && entry.ip !== null,
      hasPort: entry.port !== undefined && entry.port !== null,
    };
    // `service` (the Kubernetes Service name) is not on the model, but it is checked like any string a
    // future template could print.
    check.readText(joinPath(path, 'service'), entry.service, 'kubernetesName');
    drafts.push(draft);
  }
  return { usable: true, names: new Set(Object.keys(services)), drafts };
}
