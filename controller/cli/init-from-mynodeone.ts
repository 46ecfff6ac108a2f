/**
 * `courier init --from-mynodeone [DIR]`: on a MyNodeOne control plane, write a courier.yaml that
 * reads the cluster's registry ConfigMaps in place, uses the control plane's MyNodeOne key, and
 * trusts the host keys this machine already knows for the registered nodes. It only reads: the
 * cluster (one list of ConfigMaps), ~/.mynodeone/config.env, ~/.ssh/known_hosts; it writes DIR only.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { CourierError } from '../errors.js';
import { defaultPublicDomain } from '../registry/default-public-domain.js';
import type { Node, Registry } from '../registry/model.js';
import { parseRegistry } from '../registry/parse-registry.js';
import { findTextViolation, TEXT_RULES } from '../registry/text-rules.js';
import { createKubernetesSource } from '../sources/kubernetes-source.js';
import { fingerprintSha256, formatKnownHostsLine, hostMatches, parseKnownHosts, type KnownHost } from '../transport/known-hosts.js';
import type { CommandContext } from './run-command.js';

/** Options of `courier init --from-mynodeone`. */
export interface FromMyNodeOneOptions {
  /** Kubeconfig file; default $KUBECONFIG, ~/.kube/config, else in-cluster (written to courier.yaml only when given). */
  kubeconfig?: string;
  /** Namespace of MyNodeOne's ConfigMaps (default kube-system). */
  namespace?: string;
}

/** MyNodeOne's key for the nodes, as its installer creates it. */
const MYNODEONE_KEY = path.join('.ssh', 'mynodeone_id_ed25519');

/** One registered node and the host keys this control plane already knows for it. */
interface NodeTrust {
  node: Node;
  keys: KnownHost[];
}

/** Reads `KEY="value"` lines of ~/.mynodeone/config.env without running it (it is a shell file). */
export function parseConfigEnv(text: string): Record<string, string> {
  const values: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const match = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=(?:"([^"]*)"|'([^']*)'|([^\s#]*))/.exec(line);
    if (match) values[match[1]!] = match[2] ?? match[3] ?? match[4] ?? '';
  }
  return values;
}

/** `courier init --from-mynodeone [DIR]`: see the file comment. */
export async function initFromMyNodeOneCommand(ctx: CommandContext, dir = '.', options: FromMyNodeOneOptions = {}): Promise<number> {
  const target = path.resolve(dir);
  const configFile = path.join(target, 'courier.yaml');
  if (existsSync(configFile)) throw new CourierError('USAGE', `${configFile} already exists; init never overwrites a site`);
  const home = os.homedir();
  const namespace = options.namespace ?? 'kube-system';
  const kubeconfig = options.kubeconfig === undefined ? undefined : path.resolve(options.kubeconfig);

  // 1. the registry, read once from the cluster (a list of ConfigMaps: nothing is written there)
  const source = createKubernetesSource({ namespace, kubeconfig, watchdogMs: 60_000 });
  let registry: Registry;
  let env: Record<string, string>;
  try {
    env = parseConfigEnv(await readFile(path.join(home, '.mynodeone', 'config.env'), 'utf8').catch(() => ''));
    const publicDomain = pickPublicDomain(env.PUBLIC_DOMAIN, undefined);
    registry = parseRegistry(await source.read(), { publicDomain });
  } finally {
    await source.close();
  }

  // 2. what the control plane already has: MyNodeOne's key, the public domain, known host keys
  const identity = existsSync(path.join(home, MYNODEONE_KEY)) ? path.join(home, MYNODEONE_KEY) : undefined;
  const publicDomain = pickPublicDomain(env.PUBLIC_DOMAIN, defaultPublicDomain(registry, undefined));
  const known = parseKnownHosts(await readFile(path.join(home, '.ssh', 'known_hosts'), 'utf8').catch(() => ''));
  const trust: NodeTrust[] = registry.nodes
    .filter((node) => node.transport === 'ssh')
    .map((node) => ({ node, keys: known.filter((entry) => entry.marker === undefined && hostMatches(entry.names, node.ip, node.sshPort)) }));

  // 3. the site: courier.yaml and the known_hosts courier checks (<state.dir>/known_hosts)
  await mkdir(path.join(target, '.courier'), { recursive: true });
  await writeFile(configFile, buildConfig({ namespace, kubeconfig, identity, publicDomain, domains: registry.domains }), { flag: 'wx' });
  // one line per node and key, for the address and port courier connects to; a hashed entry stays hashed (HashKnownHosts)
  const lines = [...new Set(trust.flatMap(({ node, keys }) => keys.map((key) => formatKnownHostsLine(node.ip, node.sshPort, key.key, { hashed: key.names.kind === 'hashed' }))))];
  const knownHostsFile = path.join(target, '.courier', 'known_hosts');
  if (lines.length > 0) await writeFile(knownHostsFile, `${lines.join('\n')}\n`, { flag: 'a' });

  // 4. the report: what was found, each node trusted or not, and the steps left
  const rel = path.relative(process.cwd(), configFile) || 'courier.yaml';
  ctx.out(`wrote ${configFile}${lines.length > 0 ? ` and ${knownHostsFile}` : ''}`);
  ctx.out(`source: kubernetes ConfigMaps in ${namespace} (service-registry, domain-registry, sync-controller-registry, cluster-info)`);
  ctx.out(`cluster domain: ${registry.clusterDomain} (internal names *.${registry.clusterDomain}.local)`);
  if (env.CLUSTER_DOMAIN !== undefined && env.CLUSTER_DOMAIN !== registry.clusterDomain) {
    ctx.out(`  note: ~/.mynodeone/config.env says CLUSTER_DOMAIN=${env.CLUSTER_DOMAIN}; courier (like MyNodeOne's sync-dns.sh) uses the cluster-info ConfigMap`);
  }
  ctx.out(`public domain: ${publicDomain ?? `none chosen (domains.json lists ${registry.domains.join(', ') || 'none'}): set traefik.publicDomain in ${rel}`}`);
  ctx.out(`ssh identity: ${identity ?? `~/${MYNODEONE_KEY} not found; the SSH agent (SSH_AUTH_SOCK) is used`}`);
  ctx.out(`nodes (${registry.nodes.length}):`);
  for (const node of registry.nodes) ctx.out(`  ${describeTrust(node, trust.find((t) => t.node === node), rel)}`);
  ctx.out('next:');
  ctx.out('  1. sudo systemctl disable --now mynodeone-sync-controller   # both would push to the same nodes');
  if (trust.some((t) => t.keys.length === 0)) ctx.out('  2. courier nodes trust NODE for each untrusted node above');
  ctx.out(`  3. courier check --config ${rel}`);
  ctx.out(`  4. courier push --dry-run --config ${rel}   # what each node would get; writes nothing`);
  ctx.out(`  5. courier push --config ${rel}`);
  return 0;
}

/** The public domain from config.env when it is a valid domain name, else `fallback`. */
function pickPublicDomain(fromEnv: string | undefined, fallback: string | undefined): string | undefined {
  if (fromEnv !== undefined && fromEnv !== '' && findTextViolation(fromEnv, TEXT_RULES.domain) === undefined) return fromEnv;
  return fallback;
}

function describeTrust(node: Node, trust: NodeTrust | undefined, configFile: string): string {
  const where = `${node.name} (${node.role}, ${node.sshUser === '' ? '' : `${node.sshUser}@`}${node.ip}:${node.sshPort})`;
  if (trust === undefined) return `${where}: local transport, no host key needed`;
  if (trust.keys.length === 0) return `${where}: untrusted: no host key in ~/.ssh/known_hosts; run \`courier nodes trust ${node.name} --config ${configFile}\``;
  return `${where}: trusted: ${trust.keys.map((key) => `${key.keyType} ${fingerprintSha256(key.key)}`).join(', ')}`;
}

function buildConfig(site: { namespace: string; kubeconfig?: string; identity?: string; publicDomain?: string; domains: string[] }): string {
  const publicDomain =
    site.publicDomain !== undefined
      ? `  publicDomain: ${site.publicDomain}   # from ~/.mynodeone/config.env PUBLIC_DOMAIN or the only domain in domains.json`
      : `  # publicDomain: example.com   # needed for public services without a routing entry; domains.json lists ${site.domains.join(', ') || 'none'}`;
  return `# courier site configuration, written by \`courier init --from-mynodeone\` from this control
# plane's MyNodeOne cluster. Every key not shown has its default (see the README's configuration
# reference). Unknown keys are errors. Relative paths resolve against this file's directory.

source:
  type: kubernetes      # MyNodeOne's ConfigMaps, read and watched in place: no data migration
  namespace: ${site.namespace}
${site.kubeconfig === undefined ? '  # kubeconfig: ~/.kube/config   # default: $KUBECONFIG or ~/.kube/config, else in-cluster' : `  kubeconfig: ${site.kubeconfig}`}

state:
  dir: .courier         # status.json, lock, known_hosts (imported from ~/.ssh/known_hosts) and the git store

traefik:
  path: ~/traefik/config/mynodeone-routes.yml   # the file MyNodeOne's sync-vps-routes.sh writes on VPS nodes
${publicDomain}

hosts:
  path: /etc/hosts
  removeLegacy: true    # the first write removes MyNodeOne's "# MyNodeOne Services" section

ssh:
${site.identity === undefined ? '  # identity: ~/.ssh/mynodeone_id_ed25519   # not found: the SSH agent (SSH_AUTH_SOCK) is used' : `  identity: ${site.identity}   # MyNodeOne's key for the nodes`}
`;
}
