#!/usr/bin/env node
/** The `courier` command line. */
import { Argument, Command, CommanderError, Option } from 'commander';
import { runCommand, type GlobalOptions } from './run-command.js';

// Command modules load on use, so `courier --help` and light commands start fast.
const read = () => import('./read-commands.js');
const history = () => import('./history-commands.js');
const sync = () => import('./sync-commands.js');
const site = () => import('./site-commands.js');
const daemon = () => import('./daemon-commands.js');
const edit = () => import('./registry-commands.js');
const access = () => import('./join-commands.js');
const suspension = () => import('./suspension-commands.js');

const program = new Command('courier')
  .description('Keep cluster nodes converged on the control plane registries: render, commit, push over SSH, verify by hash.')
  .version('0.1.0')
  .option('-c, --config <path>', 'site configuration file', process.env.COURIER_CONFIG ?? 'courier.yaml')
  .option('--log-level <level>', 'log level on stderr (trace, debug, info, warn, error)')
  .exitOverride()
  .showHelpAfterError();

/** Global options merged with the command's own `--json`. */
function globals(cmd: Command): GlobalOptions {
  const all = cmd.optsWithGlobals() as GlobalOptions & { json?: boolean };
  return { config: all.config, json: all.json, logLevel: all.logLevel };
}

const json = () => new Option('--json', 'machine-readable output');
const collect = (value: string, previous: string[] = []) => [...previous, value];

program
  .command('init [dir]')
  .description('write a commented courier.yaml and an example registry into DIR (default .)')
  .option('--from-mynodeone', "on a MyNodeOne control plane: a courier.yaml on the cluster's registry ConfigMaps, its key and known host keys (reads only)")
  .option('--kubeconfig <path>', 'with --from-mynodeone: kubeconfig file (default $KUBECONFIG, ~/.kube/config, else in-cluster)')
  .option('--namespace <ns>', 'with --from-mynodeone: namespace of the ConfigMaps', 'kube-system')
  .action((dir: string | undefined, o: { fromMynodeone?: boolean; kubeconfig?: string; namespace?: string }, cmd: Command) =>
    runCommand(globals(cmd), async (ctx) =>
      o.fromMynodeone ? (await import('./init-from-mynodeone.js')).initFromMyNodeOneCommand(ctx, dir, o) : (await site()).initCommand(ctx, dir),
    ),
  );


program
  .command('render')
  .description('load, validate, render and commit a revision; print what changed')
  .addOption(json())
  .action((_o, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await read()).renderCommand(ctx)));

program
  .command('log')
  .description('revisions, newest first, with trigger and changed nodes')
  .option('--node <name>', 'only revisions that changed this node')
  .option('-n, --number <k>', 'how many revisions', '20')
  .addOption(json())
  .action((o: { node?: string; number?: string }, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await history()).logCommand(ctx, o)));

program
  .command('diff [revA] [revB]')
  .description('unified diff of rendered files between revisions (default: previous → current)')
  .option('--node <name>', 'only this node')
  .addOption(json())
  .action((a: string | undefined, b: string | undefined, o: { node?: string }, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await history()).diffCommand(ctx, a, b, o)));

program
  .command('show <rev>')
  .description('one revision: trigger, time, changed nodes and artifacts, and the unified diff against its parent')
  .addOption(json())
  .action((rev: string, _o, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await history()).showCommand(ctx, rev)));

program
  .command('rollback <rev>')
  .description("commit a new revision whose node trees are REV's (all nodes, or --node), push it, and suspend the site")
  .option('--node <name>', 'only this node (repeatable); the others keep main', collect)
  .option('--reason <text>', 'why, kept in the commit message and the suspension')
  .addOption(json())
  .action((rev: string, o: { node?: string[]; reason?: string }, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await suspension()).rollbackCommand(ctx, rev, o)));

program
  .command('suspend')
  .description('keep the nodes on the current revision: the registry is still watched and validated, but nothing is rendered from it')
  .option('--reason <text>', 'why, shown by status and the dashboard')
  .addOption(json())
  .action((o: { reason?: string }, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await suspension()).suspendCommand(ctx, o)));

program
  .command('resume')
  .description('render the current registry, commit if it differs, push, and clear the suspension')
  .addOption(json())
  .action((_o, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await suspension()).resumeCommand(ctx)));

program
  .command('dns')
  .description('every public host name with the VPS public IP its A record should point at')
  .addOption(json())
  .action((_o, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await read()).dnsCommand(ctx)));

program
  .command('push')
  .description('render, then sync the selected nodes (only what each is missing); exit 0 when all converged')
  .option('--node <name>', 'only this node (repeatable)', collect)
  .option('--role <role>', 'only nodes of this role: vps, laptop, worker')
  .option('--dry-run', 'ask the nodes what they hold and report what would change, without writing')
  .addOption(json())
  .action((o: { node?: string[]; role?: string; dryRun?: boolean }, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await sync()).pushCommand(ctx, o)));

program
  .command('verify')
  .description('read-only exchange: report converged, drifted or unreachable per node; exit 0 only if all converged')
  .option('--node <name>', 'only this node (repeatable)', collect)
  .option('--role <role>', 'only nodes of this role')
  .addOption(json())
  .action((o: { node?: string[]; role?: string }, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await sync()).verifyCommand(ctx, o)));

program
  .command('plan')
  .description("what a push would change per node, as unified diffs from each node's verified revision")
  .option('--node <name>', 'only this node (repeatable)', collect)
  .option('--role <role>', 'only nodes of this role')
  .option('--live', 'ask the nodes for what they really hold')
  .addOption(json())
  .action((o: { node?: string[]; role?: string; live?: boolean }, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await sync()).planCommand(ctx, o)));

program
  .command('status')
  .alias('health')
  .description('node status grouped by role: status, last sync and age, revision, failures, last error')
  .addOption(json())
  .action((_o, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await sync()).statusCommand(ctx)));

const nodes = program.command('nodes').description('the node registry');
nodes
  .command('list')
  .description('nodes by role with address and user')
  .addOption(json())
  .action((_o, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await read()).nodesListCommand(ctx)));
nodes
  .command('trust <node>')
  .description("show the node's SSH host key fingerprint, ask, and record it in ssh.knownHosts")
  .option('-y, --yes', 'trust without asking (scripts)')
  .action((name: string, o: { yes?: boolean }, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await site()).trustCommand(ctx, name, o)));

nodes
  .command('add')
  .description('add a node to the node registry, or replace the connection fields of the node with that name')
  .addArgument(new Argument('<role>', 'laptop, vps or worker').choices(['laptop', 'vps', 'worker']))
  .argument('<ip>', 'address courier connects to (for a VPS: the tailscale IP routing names)')
  .argument('<name>', 'node name')
  .argument('<user>', 'SSH user')
  .option('--port <port>', 'SSH port (default 22)')
  .option('--sudo', 'run the agent through sudo -n')
  .option('--root <path>', 'prefix for every path the agent writes')
  .addOption(new Option('--transport <transport>', 'how to reach the node').choices(['ssh', 'local']))
  .addOption(json())
  .action((role: string, ip: string, name: string, user: string, o: { port?: string; sudo?: boolean; root?: string; transport?: string }, cmd: Command) =>
    runCommand(globals(cmd), async (ctx) => (await edit()).nodesAddCommand(ctx, role, ip, name, user, o)),
  );
nodes
  .command('remove <name>')
  .description('remove a node from the node registry')
  .option('--revoke', "also remove the control plane's restricted key from the node and its known_hosts line")
  .addOption(json())
  .action((name: string, o: { revoke?: boolean }, cmd: Command) =>
    runCommand(globals(cmd), async (ctx) => (o.revoke ? (await access()).nodesRevokeCommand(ctx, name) : (await edit()).nodesRemoveCommand(ctx, name))),
  );
nodes
  .command('join')
  .description('add a node from the control plane: install the agent and a restricted key over its first access (password, or a printed command), register it, push')
  .addArgument(new Argument('<role>', 'laptop, vps or worker').choices(['laptop', 'vps', 'worker']))
  .argument('<ip>', 'address courier connects to (for a VPS: the tailscale IP routing names)')
  .argument('<name>', 'node name')
  .argument('<user>', 'SSH user on the node')
  .option('--port <port>', 'SSH port (default 22)')
  .option('--sudo', "run the agent as root through a sudoers drop-in (written with the user's sudo rights, checked by visudo)")
  .option('--root <path>', 'prefix for every path the agent writes (fixed on the node)')
  .option('--fingerprint <sha256>', 'the host key fingerprint to pin (SHA256:...)')
  .option('--public-ip <ip>', "a VPS's public IP: also registers its edge in domains.json")
  .option('--password-file <file>', "first access: the user's password, first line of FILE")
  .option('--ask-password', 'first access: ask for the password on the terminal')
  .option('--print', 'print a command to paste on the node instead (no password access)')
  .option('--agent-signer <file>', "the agent release signer's public key (.pub): the node takes agent upgrades signed by it (without: none)")
  .option('--no-upgrade', 'no agent upgrades over the key (the default without --agent-signer; kept as an alias)')
  .option('-y, --yes', 'no questions (only together with --fingerprint)')
  .action((role: string, ip: string, name: string, user: string, o: Record<string, string | boolean | undefined>, cmd: Command) =>
    runCommand(globals(cmd), async (ctx) => (await access()).nodesJoinCommand(ctx, role, ip, name, user, o)),
  );
nodes
  .command('restrict <name>')
  .description("replace a node's full-shell key entry by the restricted one (installs the agent; other entries unchanged)")
  .option('--agent-signer <file>', "the agent release signer's public key (.pub): the node takes agent upgrades signed by it (without: none)")
  .option('--no-upgrade', 'no agent upgrades over the key (the default without --agent-signer; kept as an alias)')
  .action((name: string, o: { upgrade?: boolean; agentSigner?: string }, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await access()).nodesRestrictCommand(ctx, name, o)));

const domains = program.command('domains').description('public domains (domains.json)');
domains
  .command('add <domain> [description]')
  .description('register a public domain, or update its description')
  .addOption(json())
  .action((domain: string, description: string | undefined, _o, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await edit()).domainsAddCommand(ctx, domain, description)));
domains
  .command('remove <domain>')
  .description('unregister a public domain (refused while routing uses it)')
  .addOption(json())
  .action((domain: string, _o, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await edit()).domainsRemoveCommand(ctx, domain)));

const vps = program.command('vps').description('VPS edges with their public IPs (domains.json vps_nodes)');
vps
  .command('add <tailscale-ip> <public-ip> [location]')
  .description('register a VPS edge, or update the one with that tailscale IP')
  .addOption(json())
  .action((tailscaleIp: string, publicIp: string, location: string | undefined, _o, cmd: Command) =>
    runCommand(globals(cmd), async (ctx) => (await edit()).vpsAddCommand(ctx, tailscaleIp, publicIp, location)),
  );
vps
  .command('remove <tailscale-ip>')
  .description('unregister a VPS edge (refused while routing uses it)')
  .addOption(json())
  .action((tailscaleIp: string, _o, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await edit()).vpsRemoveCommand(ctx, tailscaleIp)));

const routing = program.command('routing').description('which domains and VPS edges serve a service (routing.json)');
routing
  .command('set <service>')
  .description('create or update the routing of a service')
  .option('--domains <list>', 'comma-separated domains (required for a new entry)')
  .option('--vps <list>', 'comma-separated VPS tailscale IPs, primary first (required for a new entry)')
  .addOption(new Option('--strategy <strategy>', 'default round-robin for a new entry').choices(['round-robin', 'primary-backup']))
  .addOption(json())
  .action((service: string, o: { domains?: string; vps?: string; strategy?: string }, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await edit()).routingSetCommand(ctx, service, o)));
routing
  .command('remove <service>')
  .description('remove the routing of a service')
  .addOption(json())
  .action((service: string, _o, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await edit()).routingRemoveCommand(ctx, service)));

const services = program.command('services').description('services (services.json)');
services
  .command('set <name>')
  .description('create or update a service (a new one needs --subdomain, --ip and --port)')
  .option('--subdomain <subdomain>', "host label; '@' or '' for the bare domain")
  .option('--ip <ip>', 'backend IP')
  .option('--port <port>', 'backend port')
  .option('--public', 'serve it on the public domains')
  .option('--no-public', 'serve it only inside the cluster')
  .option('--namespace <namespace>', 'Kubernetes namespace')
  .addOption(json())
  .action((name: string, o: { subdomain?: string; ip?: string; port?: string; public?: boolean; namespace?: string }, cmd: Command) =>
    runCommand(globals(cmd), async (ctx) => (await edit()).servicesSetCommand(ctx, name, o)),
  );
services
  .command('remove <name>')
  .description('remove a service (refused while routing uses it)')
  .addOption(json())
  .action((name: string, _o, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await edit()).servicesRemoveCommand(ctx, name)));


program
  .command('daemon')
  .description('watch the source, push every change, reconcile on an interval, serve health, metrics and the dashboard')
  .option('--listen <host:port>', 'override http.listen')
  .action((o: { listen?: string }, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await daemon()).daemonCommand(ctx, o)));

program
  .command('reconcile')
  .description('ask the running daemon to verify and converge every node now')
  .option('--url <url>', 'daemon base URL (default http://<http.listen>)')
  .addOption(json())
  .action((o: { url?: string }, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await daemon()).reconcileCommand(ctx, o)));

program
  .command('check')
  .description('check the site: config, registry, key, host keys, each node and its agent, the daemon, the state directory; exit 0 only when all pass')
  .addOption(json())
  .action((_o, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await import('./check-command.js')).checkCommand(ctx)));

const agent = program.command('agent').description('the node agent: print it; sign and verify its releases (the signing key never lives on the control plane)');
agent
  .command('print', { isDefault: true })
  .description('print the node agent script (the default; it is sent inline by default; install it only if you want to)')
  .action((_o, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await site()).agentCommand(ctx)));
agent
  .command('sign')
  .description('on the release machine: sign the agent into <agent>.sig (ssh-keygen -Y sign -n courier-agent) and print the signer')
  .requiredOption('--key <file>', "the release signer's private key")
  .option('--agent <path>', 'the agent script (default: the one shipped with courier)')
  .action((o: { key: string; agent?: string }, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await import('./agent-commands.js')).agentSignCommand(ctx, o)));
agent
  .command('verify')
  .description("check the agent's release signature as a node does (ssh-keygen -Y verify); exit non-zero when it is not the signer's")
  .requiredOption('--signer <file>', "the release signer's public key (.pub)")
  .option('--agent <path>', 'the agent script (default: the one shipped with courier)')
  .option('--signature <path>', 'the signature (default: <agent>.sig)')
  .action((o: { signer: string; agent?: string; signature?: string }, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await import('./agent-commands.js')).agentVerifyCommand(ctx, o)));

program
  .command('demo')
  .description('create (if absent) a demo site in ./demo on the local transport, push, show status and log, then run the daemon on it')
  .option('--dir <dir>', 'demo directory', 'demo')
  .option('--once', 'push once and exit instead of running the daemon')
  .option('--listen <host:port>', 'dashboard address for the demo daemon')
  .action((o: { dir?: string; once?: boolean; listen?: string }, cmd: Command) => runCommand(globals(cmd), async (ctx) => (await import('./demo-command.js')).demoCommand(ctx, o)));

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // help and version exit 0; usage errors exit 2
    process.exitCode = err.exitCode === 0 ? 0 : 2;
  } else {
    throw err;
  }
}
