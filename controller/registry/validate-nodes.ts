/**
 * registry.json (the node registry): `{ "management_laptops": [...], "vps_nodes": [...],
 * "worker_nodes": [...], "metadata": {...} }` as MyNodeOne's node-registry-manager.sh writes it,
 * each node `{ name, ip, ssh_user, ssh_port?, sudo?, root?, transport? }` plus MyNodeOne's own
 * fields (`webhook_port`, `repo_path`, `registered`, `last_sync`, `status`), which are ignored.
 */
import { ROLE_ARRAYS, type Node, type NodeRole } from './model.js';
import type { DocumentChecker } from './document-checker.js';
import { describeValue, joinPath } from './describe-value.js';
import { nodeKey } from './node-key.js';

/** Roles in the order their arrays are read (and nodes are sorted). */
const ROLES: NodeRole[] = ['laptop', 'vps', 'worker'];

/** What registry.json holds, for the cross-document checks. */
export interface NodesResult {
  /** False when the document could not be read as an object: cross-checks against it are skipped. */
  usable: boolean;
  /** Fully valid nodes, in document order. */
  nodes: Node[];
  /** Every valid `ip` among `vps_nodes`: the VPS identities routing may name. */
  vpsIps: Set<string>;
}

/** Validate registry.json (`undefined` when absent), recording problems on `check`. */
export function validateNodes(value: unknown, check: DocumentChecker): NodesResult {
  const result: NodesResult = { usable: true, nodes: [], vpsIps: new Set() };
  if (value === undefined) return result;
  const document = check.readObject('$', value, '{"management_laptops": [...], "vps_nodes": [...], "worker_nodes": [...]}', { required: true });
  if (document === undefined) return { ...result, usable: false };

  const namePaths = new Map<string, { name: string; path: string }>();
  const vpsIpPaths = new Map<string, string>();
  for (const role of ROLES) {
    const arrayName = ROLE_ARRAYS[role];
    const entries = check.readArray(joinPath('$', arrayName), document[arrayName], 'a list of nodes {"name", "ip", "ssh_user"}') ?? [];
    entries.forEach((entryValue, index) => {
      const path = joinPath(joinPath('$', arrayName), index);
      const node = readNode(path, entryValue, role, check);
      if (node.name !== undefined) {
        // names are compared by store key (lowercase): two names equal but for case would share nodes/<key>/ and refs/nodes/<key>
        const key = nodeKey(node.name);
        const first = namePaths.get(key);
        if (first !== undefined && first.name === node.name) {
          check.report(joinPath(path, 'name'), `${describeValue(node.name)} is already the name of ${first.path}; node names must be unique across all roles`);
          node.valid = false;
        } else if (first !== undefined) {
          check.report(
            joinPath(path, 'name'),
            `${describeValue(node.name)} is ambiguous with ${describeValue(first.name)} (${first.path}): node names equal but for case share one store key "${key}"; rename one of them`,
          );
          node.valid = false;
        } else {
          namePaths.set(key, { name: node.name, path });
        }
      }
      if (role === 'vps' && node.ip !== undefined) {
        const first = vpsIpPaths.get(node.ip);
        if (first !== undefined) {
          check.report(joinPath(path, 'ip'), `${describeValue(node.ip)} is already the ip of ${first}; each VPS needs its own ip because routing.json names a VPS by its ip`);
        } else {
          vpsIpPaths.set(node.ip, path);
          result.vpsIps.add(node.ip);
        }
      }
      if (node.valid) result.nodes.push(node.node);
    });
  }
  return result;
}

/** One node entry: the node when every field is valid, and the name and ip when those are. */
function readNode(path: string, value: unknown, role: NodeRole, check: DocumentChecker): { valid: boolean; node: Node; name?: string; ip?: string } {
  const placeholder: Node = { name: '', role, ip: '', sshUser: '', sshPort: 22, sudo: false, transport: 'ssh' };
  const entry = check.readObject(path, value, 'a node {"name", "ip", "ssh_user", "ssh_port", "sudo", "root", "transport", "restricted"}', { required: true });
  if (entry === undefined) return { valid: false, node: placeholder };

  const name = check.readText(joinPath(path, 'name'), entry.name, 'nodeName', { required: true });
  // node-registry-manager.sh registers the control plane itself as `localhost`; a VPS needs its IPv4 (routing names it)
  const ip = check.readText(joinPath(path, 'ip'), entry.ip, role === 'vps' ? 'ipv4' : 'nodeAddress', { required: true });
  const transportValue = entry.transport;
  const transport = check.readChoice(joinPath(path, 'transport'), transportValue, ['ssh', 'local'] as const);
  const transportValid = transport !== undefined || transportValue === undefined || transportValue === null;
  // A local node runs the agent as the controller's own user, so it needs no SSH user.
  const sshUser = check.readText(joinPath(path, 'ssh_user'), entry.ssh_user, 'sshUser', { required: transportValid && transport !== 'local' });
  const sshPort = check.readPort(joinPath(path, 'ssh_port'), entry.ssh_port);
  const sudo = check.readBoolean(joinPath(path, 'sudo'), entry.sudo);
  const root = check.readText(joinPath(path, 'root'), entry.root, 'rootPath');
  const restricted = check.readBoolean(joinPath(path, 'restricted'), entry.restricted);

  const absent = (v: unknown): boolean => v === undefined || v === null;
  const valid =
    name !== undefined &&
    ip !== undefined &&
    transportValid &&
    (sshUser !== undefined || (transport === 'local' && absent(entry.ssh_user))) &&
    (sshPort !== undefined || absent(entry.ssh_port)) &&
    (sudo !== undefined || absent(entry.sudo)) &&
    (root !== undefined || absent(entry.root)) &&
    (restricted !== undefined || absent(entry.restricted));
  const node: Node = {
    name: name ?? '',
    role,
    ip: ip ?? '',
    sshUser: sshUser ?? '',
    sshPort: sshPort ?? 22,
    sudo: sudo ?? false,
    transport: transport ?? 'ssh',
  };
  const normalizedRoot = root === undefined ? undefined : normalizeRoot(root);
  if (normalizedRoot !== undefined) node.root = normalizedRoot;
  if (restricted === true) node.restricted = true;
  return { valid, node, name, ip };
}

/** Collapse repeated slashes and drop a trailing one; `/` alone means no prefix at all. */
function normalizeRoot(root: string): string | undefined {
  const normalized = root.replace(/\/{2,}/g, '/').replace(/\/$/, '');
  return normalized === '' ? undefined : normalized;
}
