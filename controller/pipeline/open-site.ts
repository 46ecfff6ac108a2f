/**
 * A site: one courier.yaml with its state directory, store and templates. Every command and the
 * daemon start by opening the site.
 */
import { readFile } from 'node:fs/promises';
import { loadConfig, type Config } from '../config/load-config.js';
import { openStore, type Store } from '../store/open-store.js';
import { packagePath } from '../package-root.js';
import type { Logger } from '../logger.js';
import type { RenderSettings } from '../render/model.js';
import { readAgentSignature, signaturePathFor } from '../join/agent-release.js';

/** Everything a pipeline run needs about its site. */
export interface Site {
  config: Config;
  store: Store;
  logger: Logger;
  /** The node agent's script text, sent inline on every exchange. */
  agentScript: string;
  /** Its release signature (agent.signature, default `courier-agent.sig` beside it), sent with upgrades; undefined when unsigned. */
  agentSignature?: Buffer;
  settings: RenderSettings;
}

/** Load the config, open (or create) the store and read the agent script. */
export async function openSite(configFile: string, logger: Logger): Promise<Site> {
  const config = await loadConfig(configFile);
  const store = await openStore(config.state.store);
  const agentScript = await readFile(packagePath('node-agent', 'courier-agent'), 'utf8');
  const agentSignature = await readAgentSignature(config.agent.signature ?? signaturePathFor(packagePath('node-agent', 'courier-agent')));
  return { config, store, logger, agentScript, agentSignature, settings: renderSettings(config) };
}

/** The render settings from the config's `traefik` and `hosts` sections. */
export function renderSettings(config: Config): RenderSettings {
  return {
    traefik: {
      path: config.traefik.path,
      publicDomain: config.traefik.publicDomain,
      entryPoints: config.traefik.entryPoints,
      certResolver: config.traefik.certResolver,
    },
    hosts: { path: config.hosts.path },
  };
}
