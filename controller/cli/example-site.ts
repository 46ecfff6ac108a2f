/**
 * The example site `courier init` writes and the demo runs: a commented courier.yaml and a registry
 * in MyNodeOne's document shapes, covering every rendering rule (private service, empty subdomain,
 * dashboard, `@`, one routing entry per strategy, two domains, two VPS, a laptop and a worker).
 */

/** Addresses and connection settings that differ between a real example and the local demo. */
export interface ExampleOptions {
  /** Node addresses by node name. */
  addresses: Record<'edge-eu' | 'edge-us' | 'laptop-1' | 'worker-1', string>;
  /** Demo: run every node on the local transport with this root prefix per node (`<dir>/<node>`). */
  localRoots?: string;
}

/** The registry documents, keyed by file name, as JSON text. */
export function exampleRegistry(options: ExampleOptions): Record<string, string> {
  const a = options.addresses;
  const conn = (name: keyof ExampleOptions['addresses'], user: string) =>
    options.localRoots ? { name, ip: a[name], ssh_user: user, transport: 'local', root: `${options.localRoots}/${name}` } : { name, ip: a[name], ssh_user: user };
  const services = {
    dashboard: { subdomain: 'dashboard', namespace: 'kube-system', service: 'dashboard', ip: '100.64.0.10', port: 80, public: false },
    'cluster-home': { subdomain: '', namespace: 'default', service: 'homepage', ip: '100.64.0.10', port: 3000, public: false },
    grafana: { subdomain: 'grafana', namespace: 'monitoring', service: 'grafana', ip: '100.64.0.14', port: 3000, public: false },
    immich: { subdomain: 'photos', namespace: 'immich', service: 'immich-server', ip: '100.64.0.11', port: 2283, public: true },
    'open-webui': { subdomain: 'chat', namespace: 'open-webui', service: 'open-webui', ip: '100.64.0.12', port: 8080, public: true },
    website: { subdomain: '@', namespace: 'website', service: 'website', ip: '100.64.0.10', port: 8080, public: true },
    demo: { subdomain: 'demo', namespace: 'demo', service: 'demo', ip: '100.64.0.15', port: 80, public: true },
  };
  const domains = {
    domains: { 'example.com': { description: 'Main site' }, 'example.org': { description: 'Second site' } },
    vps_nodes: [
      { tailscale_ip: a['edge-eu'], public_ip: '203.0.113.10', location: 'eu' },
      { tailscale_ip: a['edge-us'], public_ip: '198.51.100.20', location: 'us' },
    ],
  };
  const routing = {
    immich: { domains: ['example.com', 'example.org'], vps_nodes: [a['edge-eu'], a['edge-us']], strategy: 'round-robin' },
    'open-webui': { domains: ['example.com', 'example.org'], vps_nodes: [a['edge-eu'], a['edge-us']], strategy: 'primary-backup' },
  };
  const registry = {
    management_laptops: [conn('laptop-1', 'admin')],
    vps_nodes: [conn('edge-eu', 'root'), conn('edge-us', 'root')],
    worker_nodes: [conn('worker-1', 'admin')],
  };
  const json = (v: unknown) => JSON.stringify(v, null, 2) + '\n';
  return {
    'services.json': json(services),
    'domains.json': json(domains),
    'routing.json': json(routing),
    'registry.json': json(registry),
    'cluster-domain': 'mycloud\n',
  };
}

/** A commented courier.yaml listing every key with its default. */
export function exampleConfig(options: { publicDomain: string; extra?: string }): string {
  return `# courier site configuration. Every key is optional; the values shown are the defaults
# unless marked "example". Unknown keys are errors. Durations: 500ms, 5s, 10m, 1h.
# Relative paths resolve against this file's directory.

source:
  type: files          # files | kubernetes | git
  path: registry       # directory with services.json, domains.json, routing.json, registry.json, cluster-domain

state:
  dir: .courier        # status.json, lock, known_hosts and the git store (<dir>/store)

traefik:
  path: ~/traefik/config/mynodeone-routes.yml   # file written on VPS nodes (~/ = the SSH user's home)
  publicDomain: ${options.publicDomain}         # example: domain for public services without a routing entry
  entryPoints:
    web: web
    websecure: websecure
  certResolver: letsencrypt

hosts:
  path: /etc/hosts     # file holding the "# BEGIN courier" block on laptops and workers
  removeLegacy: true   # the first write also removes MyNodeOne's old "# MyNodeOne Services" section

ssh:
  # identity: ~/.ssh/mynodeone_id_ed25519   # private key; default: the SSH agent (SSH_AUTH_SOCK)
  # knownHosts: .courier/known_hosts        # default: <state.dir>/known_hosts; trust nodes with \`courier nodes trust\`
  connectTimeout: 10s  # TCP connect + SSH handshake
  concurrency: 32      # nodes synced at once
  sessionTimeout: 5m   # one whole exchange

reconcile:
  interval: 1h         # daemon: verify every node and push to any not converged
  retries: 3           # per node, for retryable failures (unreachable, timeout, connection lost)
  retryDelay: 5s       # first retry delay, doubling, with jitter
  errorAfter: 5        # consecutive failures before a node's status turns from pending_sync to error
  drift: heal          # heal | warn
  debounce: 200ms      # daemon: wait for a burst of file changes to settle
  shutdownGrace: 30s   # daemon: how long in-flight syncs may finish on SIGTERM

http:
  enabled: true
  listen: 127.0.0.1:9470   # daemon: /healthz /readyz /metrics /api/status and the dashboard
  # tokenFile: http-token # bearer token for everything but /healthz, /readyz (openssl rand -hex 32 > http-token);
  #                        # set it before listening on anything but loopback
  # protectMetrics: false  # true: /metrics needs the token too

leaderElection: false  # true, or { enabled, kubeconfig, namespace, name, leaseDuration, renewDeadline, retryPeriod }

log:
  level: info

# agent:
#   signature: courier-agent.sig  # the agent release signature sent with upgrades to restricted nodes
#                                 # (default: node-agent/courier-agent.sig beside the shipped agent; see courier agent sign)
${options.extra ?? ''}`;
}
