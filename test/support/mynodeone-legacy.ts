/**
 * Runs MyNodeOne's own sync scripts (`sync-dns.sh`, `sync-vps-routes.sh`, which calls
 * `multi-domain-registry.sh export-vps-routes` on the control plane) on a registry, under bash, with
 * small stand-ins on PATH for what they call but this machine lacks or must not touch: `kubectl`
 * answers from the registry files (and refuses every write), `ssh` runs the remote command locally,
 * `tailscale ip -4` answers the VPS's address, `docker` pretends Traefik restarted, `sudo` runs its
 * command, `sleep`/`curl` return at once, `yq eval` checks YAML (Debian's python yq has no `eval`).
 * Each registry runs in its own mount namespace (`unshare -m`) with an overlay over /etc, so the
 * scripts edit a private /etc/hosts (sed -i renames over it, which a bind mount of the file alone
 * refuses with EBUSY) and the machine's /etc is never touched.
 *
 * The scripts are MyNodeOne's (MIT, ../shared/reference/mynodeone/ beside the repository); they are
 * copied into a temp dir per run and never modified.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { chmod, copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { packagePath } from '../../controller/package-root.js';

const run = promisify(execFile);

/** The registry files of one run, as the ConfigMap keys hold them (text); an absent key is an absent document. */
export interface LegacyRegistry {
  'services.json'?: string;
  'domains.json'?: string;
  'routing.json'?: string;
  'registry.json'?: string;
  'cluster-domain'?: string;
}

/** What one VPS got from `sync-vps-routes.sh`. */
export interface LegacyVpsResult {
  /** Exit status of the script. */
  status: number;
  /** The installed `~/traefik/config/mynodeone-routes.yml`, or undefined when the script installed none. */
  routes?: string;
  /** The script's output (for failure messages). */
  log: string;
}

/** What the scripts produced for one registry. */
export interface LegacyResult {
  /** `/etc/hosts` before `sync-dns.sh` ran (the same for every laptop and worker: the script does not depend on the node). */
  hostsBefore: string;
  /** `/etc/hosts` after. */
  hostsAfter: string;
  dnsStatus: number;
  dnsLog: string;
  /** Per VPS tailscale IP. */
  vps: Map<string, LegacyVpsResult>;
  /** Every kubectl command that would have changed the cluster (the stand-in refuses them). */
  kubectlWrites: string[];
  /** Every `ssh` destination the scripts used. */
  sshDestinations: string[];
}

/** The control plane address the VPS scripts are configured with (config.env), as MyNodeOne's installer writes it. */
export const LEGACY_CONTROL_PLANE_IP = '100.64.255.1';

/** The hosts file every run starts from. */
export const LEGACY_HOSTS_BEFORE = '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost\n# a line of our own\n10.9.9.9\tprinter.lan\n';

/**
 * Where MyNodeOne's scripts are: `../shared/reference/mynodeone` beside the repository (CI keeps a
 * copy of shared/ there). Throws naming the path when they are missing, so the differential tests
 * fail loudly instead of passing without having run anything.
 */
export function locateMyNodeOneScripts(): string {
  const dir = path.resolve(packagePath(), '..', 'shared', 'reference', 'mynodeone');
  const needed = ['sync-dns.sh', 'sync-vps-routes.sh', 'multi-domain-registry.sh'];
  const missing = needed.filter((file) => !existsSync(path.join(dir, file)));
  if (missing.length > 0) {
    throw new Error(
      `MyNodeOne's scripts are missing: ${missing.map((file) => path.join(dir, file)).join(', ')}. The differential tests run them; ` +
        'put a copy of the shared/ directory (with reference/mynodeone/) beside the repository checkout.',
    );
  }
  return dir;
}

/** The stand-ins (kubectl, ssh, tailscale, docker, sudo, sleep, curl, ping, yq: put first on PATH) and the runner that executes inside `unshare -m`. */
const STAND_INS_DIR = packagePath('test', 'support', 'mynodeone-stand-ins');

/** Runs MyNodeOne's scripts on `registry` for the given VPS tailscale IPs, with `publicDomain` as the VPS's PUBLIC_DOMAIN. */
export async function runLegacyScripts(registry: LegacyRegistry, vpsIps: string[], publicDomain: string): Promise<LegacyResult> {
  const source = locateMyNodeOneScripts();
  const dir = await mkdtemp(path.join(os.tmpdir(), 'courier-mynodeone-'));
  try {
    const home = path.join(dir, 'home');
    const scripts = path.join(home, 'MyNodeOne', 'scripts');
    await Promise.all(['registry', 'out', 'etc-upper', 'etc-work', path.join('home', '.mynodeone'), path.join('home', 'traefik', 'config')].map((d) => mkdir(path.join(dir, d), { recursive: true })));
    await mkdir(path.join(scripts, 'lib'), { recursive: true });
    await copyFile(path.join(source, 'sync-dns.sh'), path.join(scripts, 'sync-dns.sh'));
    await copyFile(path.join(source, 'sync-vps-routes.sh'), path.join(scripts, 'sync-vps-routes.sh'));
    await copyFile(path.join(source, 'multi-domain-registry.sh'), path.join(scripts, 'lib', 'multi-domain-registry.sh'));
    await chmod(path.join(scripts, 'lib', 'multi-domain-registry.sh'), 0o755);
    await writeFile(path.join(home, '.mynodeone', 'config.env'), `CONTROL_PLANE_IP="${LEGACY_CONTROL_PLANE_IP}"\nPUBLIC_DOMAIN="${publicDomain}"\n`);
    for (const [key, text] of Object.entries(registry)) if (text !== undefined) await writeFile(path.join(dir, 'registry', key), text);
    await writeFile(path.join(dir, 'hosts-before'), LEGACY_HOSTS_BEFORE);

    try {
      await run('unshare', ['-m', 'bash', path.join(STAND_INS_DIR, 'run-legacy.sh'), dir, STAND_INS_DIR, ...vpsIps], { timeout: 120_000, maxBuffer: 16 * 1024 * 1024 });
    } catch (err) {
      throw new Error(`running MyNodeOne's scripts under unshare -m failed (they need root and mount namespaces): ${(err as Error).message}`, { cause: err });
    }
    const out = (file: string): Promise<string> => readFile(path.join(dir, 'out', file), 'utf8').catch(() => '');
    const vps = new Map<string, LegacyVpsResult>();
    for (const ip of vpsIps) {
      const routesFile = path.join(dir, 'out', `vps-${ip}.yml`);
      vps.set(ip, {
        status: Number((await out(`vps-${ip}.status`)).trim()),
        routes: existsSync(routesFile) ? await readFile(routesFile, 'utf8') : undefined,
        log: await out(`vps-${ip}.log`),
      });
    }
    const lines = (text: string): string[] => text.split('\n').filter((line) => line !== '');
    return {
      hostsBefore: LEGACY_HOSTS_BEFORE,
      hostsAfter: await out('hosts-after'),
      dnsStatus: Number((await out('dns.status')).trim()),
      dnsLog: await out('dns.log'),
      vps,
      kubectlWrites: lines(await out('kubectl-writes')),
      sshDestinations: lines(await out('ssh-destinations')),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
