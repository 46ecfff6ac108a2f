/** The render model of the hosts block: which internal names resolve to which service IP. */
import type { Registry } from '../registry/model.js';
import { assertHostName, assertIpAddress } from './assert-render-input.js';
import { compareText } from './compare-text.js';

/** One `ip<TAB>name` line of the hosts block. */
export interface HostsLine {
  ip: string;
  name: string;
}

/** What `templates/hosts.hbs` formats: validated lines, de-duplicated, sorted by name then ip. */
export interface HostsModel {
  lines: HostsLine[];
}

/**
 * The hosts lines for laptops and workers: `<subdomain>.<cluster>.local` for every service with an
 * ip; `@` or an empty subdomain is the bare `<cluster>.local`, and `dashboard` also gets the bare
 * name (MyNodeOne behaviour).
 */
export function buildHostsModel(registry: Registry): HostsModel {
  const zone = `${registry.clusterDomain}.local`;
  const lines = new Map<string, HostsLine>();
  for (const service of registry.services) {
    if (service.ip === undefined) continue;
    const where = `services.json: $.${service.name}`;
    assertIpAddress(service.ip, `${where}.ip`);
    const bare = service.subdomain === '' || service.subdomain === '@';
    const names = bare ? [zone] : service.subdomain === 'dashboard' ? [`dashboard.${zone}`, zone] : [`${service.subdomain}.${zone}`];
    for (const name of names) {
      assertHostName(name, `${where}.subdomain (internal name)`);
      lines.set(`${name}\t${service.ip}`, { ip: service.ip, name });
    }
  }
  return { lines: [...lines.values()].sort((a, b) => compareText(a.name, b.name) || compareText(a.ip, b.ip)) };
}
