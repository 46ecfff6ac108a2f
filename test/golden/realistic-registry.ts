/**
 * A realistic registry for the render golden files, shaped like the MyNodeOne cluster in the seeds:
 * two public domains, two VPS edges (Contabo EU, DigitalOcean US), laptops and a worker. Built as
 * an object so the golden test does not depend on the registry parser.
 */
import type { Node, Registry } from '../../controller/registry/model.js';
import type { RenderSettings } from '../../controller/render/model.js';

/** A node with the registry's defaults for the connection fields. */
function makeNode(name: string, role: Node['role'], ip: string, sshUser = 'root'): Node {
  return { name, role, ip, sshUser, sshPort: 22, sudo: sshUser !== 'root', transport: 'ssh' };
}

/** The realistic registry: every render rule appears at least once. */
export function buildRealisticRegistry(): Registry {
  return {
    clusterDomain: 'mycloud',
    domains: ['curiios.com', 'photos-archive.net', 'vinaysachdeva.com'],
    vpsEndpoints: [
      { tailscaleIp: '100.68.225.92', publicIp: '45.8.133.192', location: 'eu' },
      { tailscaleIp: '100.70.123.45', publicIp: '167.99.1.1', location: 'us' },
    ],
    services: [
      // Routed round-robin over both VPS: three domains, two edges.
      { name: 'immich', subdomain: 'photos', ip: '100.118.5.203', port: 2283, public: true, namespace: 'immich' },
      // Routed primary-backup, and routing publishes it although `public` is false. Its `@` is also the
      // bare internal name mycloud.local, so no other service (e.g. dashboard) may claim that here.
      { name: 'homepage', subdomain: '@', ip: '100.118.5.210', port: 3000, public: false, namespace: 'homepage' },
      // Public without routing: served on every VPS under the public domain (set in the settings).
      { name: 'jellyfin', subdomain: 'media', ip: '100.118.5.205', port: 8096, public: true, namespace: 'jellyfin' },
      { name: 'open-webui', subdomain: 'chat', ip: '100.118.5.207', port: 8080, public: true, namespace: 'open-webui' },
      // Internal only.
      { name: 'grafana', subdomain: 'grafana', ip: '100.118.5.201', port: 80, public: false, namespace: 'monitoring' },
      { name: 'kubernetes-dashboard', subdomain: 'k8s', ip: '100.118.5.200', port: 443, public: false, namespace: 'kubernetes-dashboard' },
      { name: 'argocd', subdomain: 'argocd', ip: '100.118.5.202', port: 443, public: false, namespace: 'argocd' },
      // Same subdomain and IP as argocd: one hosts line.
      { name: 'argocd-server', subdomain: 'argocd', ip: '100.118.5.202', port: 443, public: false, namespace: 'argocd' },
      // No LoadBalancer IP yet: no hosts line, no route.
      { name: 'minio', subdomain: 'minio', port: 9000, public: true, namespace: 'minio' },
    ],
    routing: [
      { service: 'immich', domains: ['curiios.com', 'vinaysachdeva.com', 'photos-archive.net'], vpsNodes: ['100.68.225.92', '100.70.123.45'], strategy: 'round-robin' },
      { service: 'homepage', domains: ['curiios.com', 'vinaysachdeva.com'], vpsNodes: ['100.70.123.45', '100.68.225.92'], strategy: 'primary-backup' },
    ],
    nodes: [
      makeNode('vinay-laptop', 'laptop', '100.86.112.112', 'vinaysachdeva'),
      makeNode('work-laptop', 'laptop', '100.87.123.45', 'vinaysachdeva'),
      makeNode('contabo-vps', 'vps', '100.68.225.92'),
      makeNode('digitalocean-vps', 'vps', '100.70.123.45'),
      // A VPS no routing names and without an endpoint in domains.json: it still serves the
      // single-domain public services, but no DNS record points at it.
      makeNode('linode-asia', 'vps', '100.72.200.50'),
      makeNode('worker-1', 'worker', '100.90.10.11'),
    ],
    documents: {},
  };
}

/** Render settings as courier.yaml's defaults give them, with the public domain set. */
export const REALISTIC_SETTINGS: RenderSettings = {
  traefik: {
    path: '~/traefik/config/mynodeone-routes.yml',
    publicDomain: 'curiios.com',
    entryPoints: { web: 'web', websecure: 'websecure' },
    certResolver: 'letsencrypt',
  },
  hosts: { path: '/etc/hosts' },
};
