/** The render model of one VPS node's Traefik dynamic configuration (file provider). */
import { CourierError } from '../errors.js';
import { compareText } from './compare-text.js';
import type { RenderSettings } from './model.js';
import type { PublicRoute } from './resolve-public-routes.js';

/** The middleware every `-http` router uses to send plain HTTP to HTTPS. */
export const HTTPS_REDIRECT = 'https-redirect';

/** One HTTP router, every field explicit so the template needs no defaults. */
export interface TraefikRouter {
  name: string;
  rule: string;
  entryPoints: string[];
  middlewares: string[];
  service: string;
  tls: { certResolver: string } | null;
}

/** One load-balancer service. */
export interface TraefikService {
  name: string;
  urls: string[];
}

/** One redirectScheme middleware (permanent). */
export interface TraefikRedirectMiddleware {
  name: string;
  scheme: string;
}

/** What `templates/traefik.yml.hbs` formats: everything sorted by name; `empty` when the VPS serves nothing. */
export interface TraefikModel {
  empty: boolean;
  routers: TraefikRouter[];
  services: TraefikService[];
  middlewares: TraefikRedirectMiddleware[];
}

/**
 * The routers, services and middlewares of the VPS whose tailscale IP is `vpsIp`. Per (service,
 * host): router `<service>-<host with dots as dashes>` on websecure with TLS, and the same name plus
 * `-http` on web redirecting to HTTPS; one `<service>-service` per service.
 */
export function buildTraefikModel(routes: PublicRoute[], vpsIp: string, settings: RenderSettings): TraefikModel {
  const { entryPoints, certResolver } = settings.traefik;
  const routers = new Map<string, { router: TraefikRouter; route: PublicRoute }>();
  const services = new Map<string, TraefikService>();
  const add = (router: TraefikRouter, route: PublicRoute) => {
    const clash = routers.get(router.name);
    if (clash !== undefined) {
      throw new CourierError(
        'RENDER_INVALID',
        `Traefik router name ${router.name} is produced by both ${clash.route.service} (${clash.route.host}) and ${route.service} (${route.host}); rename one of the services`,
        { router: router.name, services: [clash.route.service, route.service], hosts: [clash.route.host, route.host] },
      );
    }
    routers.set(router.name, { router, route });
  };
  for (const route of routes) {
    if (!route.vpsIps.includes(vpsIp)) continue;
    const name = `${route.service}-${route.host.replaceAll('.', '-')}`;
    const service = `${route.service}-service`;
    const rule = `Host(\`${route.host}\`)`;
    add({ name, rule, entryPoints: [entryPoints.websecure], middlewares: [], service, tls: { certResolver } }, route);
    add({ name: `${name}-http`, rule, entryPoints: [entryPoints.web], middlewares: [HTTPS_REDIRECT], service, tls: null }, route);
    services.set(service, { name: service, urls: [route.backendUrl] });
  }
  const sortedRouters = [...routers.values()].map((r) => r.router).sort((a, b) => compareText(a.name, b.name));
  return {
    empty: sortedRouters.length === 0,
    routers: sortedRouters,
    services: [...services.values()].sort((a, b) => compareText(a.name, b.name)),
    middlewares: sortedRouters.length === 0 ? [] : [{ name: HTTPS_REDIRECT, scheme: 'https' }],
  };
}
