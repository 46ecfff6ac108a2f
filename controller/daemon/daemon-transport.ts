/**
 * How the daemon reaches its nodes: the SSH transport options from the config, and the exchange
 * every sync uses, over the warm session pool (while this process leads) or a cold exec per sync.
 */
import { CourierError } from '../errors.js';
import type { Site } from '../pipeline/open-site.js';
import type { TransportOptions } from '../transport/open-agent-channel.js';
import { coldExchange, warmExchange, type NodeExchange } from '../transport/node-exchange.js';
import type { SessionPool } from '../transport/session-pool.js';

/** The transport options of `site`'s config, with its agent's release signature and a logger for warnings. */
export function daemonTransport(site: Site): TransportOptions {
  const { ssh } = site.config;
  return {
    identity: ssh.identity,
    agentSocket: process.env.SSH_AUTH_SOCK,
    knownHostsFile: ssh.knownHosts,
    connectTimeout: ssh.connectTimeout,
    sessionTimeout: ssh.sessionTimeout,
    keepAliveInterval: ssh.keepAlive,
    agentSignature: site.agentSignature,
    warn: (data, message) => site.logger.warn(data, message),
  };
}

/** `ssh.sessions: warm`: a round on the node's open session in `pool()` (none while not leading: CONNECTION_LOST, retryable); `cold`: one exec per sync. */
export function daemonExchange(site: Site, transport: TransportOptions, pool: () => SessionPool | undefined): NodeExchange {
  const cold = coldExchange(site.agentScript, transport, { removeLegacy: site.config.hosts.removeLegacy });
  if (site.config.ssh.sessions !== 'warm') return cold;
  return (node, mode, wants, decide) => {
    const open = pool();
    if (!open) throw new CourierError('CONNECTION_LOST', `${node.name}: not leading, no sessions`, { node: node.name }, { retryable: true });
    return warmExchange(open)(node, mode, wants, decide);
  };
}
