/**
 * What a restricted node holds, as text: the control plane's `authorized_keys` entry (a forced
 * command that runs only the installed agent), the targets file the agent reads in restricted
 * mode (the root, the paths and the upgrade policy fixed at join), and the sudoers drop-in for
 * `--sudo`. Pure.
 */
import { CourierError } from '../errors.js';
import type { NodeRole } from '../registry/model.js';
import type { RenderSettings } from '../render/model.js';

/** Where the agent is installed, relative to the node user's home. */
export const AGENT_DIR = '.courier';
/** Every restricted entry's forced command contains this (the agent's `revoke` finds entries by it). */
export const ENTRY_MARK = '/.courier/courier-agent restricted';
/** The comment after the key in the entry. */
export const ENTRY_COMMENT = 'courier-control-plane';

// A home or user that sudoers, authorized_keys quoting and the shell all read literally.
const SAFE_PATH = /^\/[A-Za-z0-9._/-]+$/;
const SAFE_USER = /^[a-z_][a-z0-9_.-]*$/i;

/** The installed agent's path for a home directory, refusing a home no file format can quote. */
export function agentPath(home: string): string {
  if (!SAFE_PATH.test(home) || home.includes('..')) {
    throw new CourierError('JOIN_FAILED', `the node user's home ${JSON.stringify(home)} has characters courier will not put into authorized_keys or sudoers (allowed: letters, digits, . _ - /)`, { home });
  }
  return `${home.replace(/\/+$/, '')}/${AGENT_DIR}/courier-agent`;
}

/** The forced command: the installed agent in restricted mode; under sudo it gets the client's command as an argument (sudo drops the environment). */
export function forcedCommand(home: string, sudo: boolean): string {
  const agent = agentPath(home);
  return sudo ? `sudo -n /bin/sh ${agent} restricted "$SSH_ORIGINAL_COMMAND"` : `/bin/sh ${agent} restricted`;
}

/** `restrict,command="..." <type> <base64> courier-control-plane`: no pty, no forwarding, only the agent. */
export function restrictedEntry(home: string, sudo: boolean, publicKey: string): string {
  return `restrict,command="${forcedCommand(home, sudo).replace(/"/g, '\\"')}" ${publicKey} ${ENTRY_COMMENT}`;
}

// Directories a target must never reach: the node's keys, and the agent with its targets and release signer.
const GUARDED_DIRS = ['.ssh', AGENT_DIR];

/**
 * The protocol paths a node of `role` is written at: its role's one artifact. Refused
 * (CONFIG_INVALID) when the path, under `root`, would reach a `.ssh` or `.courier` directory: a sync
 * could then rewrite authorized_keys, the targets file or the pinned release signer.
 */
export function targetPaths(role: NodeRole, settings: RenderSettings, root?: string): string[] {
  const key = role === 'vps' ? 'traefik.path' : 'hosts.path';
  const paths = role === 'vps' ? [settings.traefik.path] : [settings.hosts.path];
  for (const p of paths) {
    if (/[\s\p{Cc}]/u.test(p)) throw new CourierError('CONFIG_INVALID', `${key}: target path ${JSON.stringify(p)} contains whitespace; the agent's paths cannot`, { key, path: p });
    const segments = `${root ?? ''}/${p.replace(/^~(?=\/)/, '')}`.split('/');
    const guarded = segments.find((s) => GUARDED_DIRS.includes(s));
    if (guarded) {
      throw new CourierError(
        'CONFIG_INVALID',
        `${key}: target path ${p}${root ? ` under --root ${root}` : ''} reaches a ${guarded} directory, where a sync could rewrite the node's authorized_keys, its targets or its pinned agent signer; set ${key} in courier.yaml (or --root) to a path outside ~/.ssh and ~/.courier`,
        { key, path: p, root },
      );
    }
  }
  return paths;
}

/** What a node's targets file says of agent upgrades: `signed` (a release signer is pinned) or `no`. */
export type UpgradePolicy = 'signed' | 'no';

/** The targets file beside the installed agent: `root PREFIX` (when the node has one), `allow PATH` lines, and `upgrade signed|no`. */
export function targetsFile(paths: readonly string[], root: string | undefined, upgrade: UpgradePolicy): string {
  const lines = ['# courier: the only files the control-plane key may write on this node (fixed at join)'];
  if (root) lines.push(`root ${root}`);
  for (const p of paths) lines.push(`allow ${p}`);
  lines.push(`upgrade ${upgrade}`);
  return `${lines.join('\n')}\n`;
}

/** The sudoers drop-in for `--sudo`: exactly the restricted agent command, as root, without a password. */
export function sudoersDropIn(user: string, home: string): string {
  if (!SAFE_USER.test(user)) throw new CourierError('JOIN_FAILED', `user ${JSON.stringify(user)} cannot be named in a sudoers drop-in`, { user });
  const alias = `COURIER_AGENT_${user.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
  return [
    '# courier: the control-plane key (restricted, see authorized_keys) runs exactly this agent command as root',
    `Cmnd_Alias ${alias} = /bin/sh ${agentPath(home)} restricted *`,
    `Defaults!${alias} !requiretty`,
    `${user} ALL=(root) NOPASSWD: ${alias}`,
    '',
  ].join('\n');
}

/** The drop-in's path for a user. It sorts late on purpose: in sudoers the last matching rule wins, and a user's own `ALL` rule (with password) must not override it. */
export function sudoersPath(user: string): string {
  return `/etc/sudoers.d/zz-courier-${user}`;
}
