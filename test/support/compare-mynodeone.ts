/**
 * What MyNodeOne's scripts and courier produced, reduced to what a node really uses, so the two can
 * be compared whatever the formatting: hosts entries as a set of `ip name`, and per VPS the set of
 * routes (host → backend URLs, entry points, TLS resolver, middlewares).
 */
import yaml from 'js-yaml';

/** One Traefik router as it takes effect: the host it matches and where it sends the request. */
export interface EffectiveRoute {
  host: string;
  /** `loadBalancer.servers[].url` of its service, sorted. */
  urls: string[];
  entryPoints: string[];
  certResolver?: string;
  middlewares: string[];
}

/** Every `ip name` pair of a hosts file (or block body), comments and blank lines left out. */
export function hostsEntries(text: string): Set<string> {
  const entries = new Set<string>();
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '');
    if (line.trim() === '') continue;
    // MyNodeOne can write a line with an empty ip ("\tname"): keep it visible as "<empty> name"
    const [ip, ...names] = line.startsWith('\t') ? ['', ...line.trim().split(/\s+/)] : line.trim().split(/\s+/);
    for (const name of names) entries.add(`${ip === '' ? '<empty>' : ip} ${name}`);
  }
  return entries;
}

/** The entries a run added to a hosts file: in `after` but not in `before`. */
export function addedHostsEntries(before: string, after: string): Set<string> {
  const old = hostsEntries(before);
  return new Set([...hostsEntries(after)].filter((entry) => !old.has(entry)));
}

/** The routes of a Traefik dynamic configuration file; throws when it is not YAML or not that shape. */
export function effectiveRoutes(text: string): EffectiveRoute[] {
  const doc = (yaml.load(text) ?? {}) as { http?: { routers?: Record<string, RouterDoc>; services?: Record<string, ServiceDoc> } };
  const routers = doc.http?.routers ?? {};
  const services = doc.http?.services ?? {};
  const routes: EffectiveRoute[] = [];
  for (const [name, router] of Object.entries(routers)) {
    const hosts = [...String(router.rule ?? '').matchAll(/Host\(`([^`]*)`\)/g)].map((m) => m[1] ?? '');
    if (hosts.length === 0) throw new Error(`router ${name}: rule ${JSON.stringify(router.rule)} names no Host(...)`);
    const service = services[String(router.service)];
    const urls = (service?.loadBalancer?.servers ?? []).map((server) => String(server.url)).sort();
    for (const host of hosts) {
      routes.push({
        host,
        urls,
        entryPoints: [...(router.entryPoints ?? [])].map(String).sort(),
        ...(router.tls?.certResolver === undefined ? {} : { certResolver: String(router.tls.certResolver) }),
        middlewares: [...(router.middlewares ?? [])].map(String).sort(),
      });
    }
  }
  return routes;
}

interface RouterDoc {
  rule?: unknown;
  service?: unknown;
  entryPoints?: unknown[];
  middlewares?: unknown[];
  tls?: { certResolver?: unknown };
}

interface ServiceDoc {
  loadBalancer?: { servers?: { url?: unknown }[] };
}

/** One route as a comparable string: `host -> url,url [entry points] tls=resolver mw=middlewares`. */
export function formatRoute(route: EffectiveRoute): string {
  return `${route.host} -> ${route.urls.join(',')} [${route.entryPoints.join(',')}] tls=${route.certResolver ?? '-'} mw=${route.middlewares.join(',') || '-'}`;
}

/** The two sides of a set comparison: what only the left has and what only the right has, sorted. */
export function compareSets(left: Set<string>, right: Set<string>): { onlyLeft: string[]; onlyRight: string[] } {
  return {
    onlyLeft: [...left].filter((item) => !right.has(item)).sort(),
    onlyRight: [...right].filter((item) => !left.has(item)).sort(),
  };
}
