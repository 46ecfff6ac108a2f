/**
 * The render stage: registry in, every node's artifacts out. Pure: no I/O, no clock, no logging;
 * the compiled templates are passed in. TypeScript decides what each node gets (the models);
 * the templates only format. Every Traefik file is validated before it is returned, so nothing
 * invalid can reach the store.
 */
import { CourierError } from '../errors.js';
import type { Node, Registry } from '../registry/model.js';
import { blobOid } from './blob-oid.js';
import { buildHostsModel } from './build-hosts-model.js';
import { buildTraefikModel } from './build-traefik-model.js';
import { compareText } from './compare-text.js';
import type { Templates } from './load-templates.js';
import type { Artifact, NodeRender, RenderResult, RenderSettings } from './model.js';
import { resolvePublicRoutes, type PublicRoute } from './resolve-public-routes.js';
import { validateTraefikConfig } from './validate-traefik-config.js';

/** Store name of the hosts block artifact. */
export const HOSTS_ARTIFACT = 'hosts';
/** Store name of the Traefik dynamic configuration artifact. */
export const TRAEFIK_ARTIFACT = 'traefik.yml';

/** What every node's render shares: the registry-wide decisions, made once. */
export interface RenderContext {
  settings: RenderSettings;
  templates: Templates;
  /** The hosts block body: the same for every laptop and worker. */
  hostsContent: string;
  routes: PublicRoute[];
}

/** Render every node of the registry; nodes sorted by name, each node's artifacts sorted by name. */
export function renderRegistry(registry: Registry, settings: RenderSettings, templates: Templates): RenderResult {
  const context: RenderContext = {
    settings,
    templates,
    hostsContent: applyTemplate(templates.hosts, buildHostsModel(registry), 'hosts'),
    routes: resolvePublicRoutes(registry, settings),
  };
  const nodes = [...registry.nodes].sort((a, b) => compareText(a.name, b.name));
  return { nodes: nodes.map((node): NodeRender => ({ node, artifacts: renderNodeArtifacts(node, context) })) };
}

/** One node's artifacts: the hosts block for laptops and workers, the Traefik file for VPS nodes. */
export function renderNodeArtifacts(node: Node, context: RenderContext): Artifact[] {
  const { settings, templates } = context;
  if (node.role === 'vps') {
    const content = applyTemplate(templates.traefik, buildTraefikModel(context.routes, node.ip, settings), 'traefik');
    validateTraefikConfig(content, `nodes/${node.name}/${TRAEFIK_ARTIFACT}`);
    return [buildArtifact(TRAEFIK_ARTIFACT, settings.traefik.path, 'file', content)];
  }
  return [buildArtifact(HOSTS_ARTIFACT, settings.hosts.path, 'block', context.hostsContent)];
}

function buildArtifact(name: string, path: string, kind: Artifact['kind'], content: string): Artifact {
  return { name, path, kind, mode: '0644', content, oid: blobOid(content) };
}

function applyTemplate<T>(template: HandlebarsTemplateDelegate<T>, model: T, name: keyof Templates): string {
  try {
    return template(model);
  } catch (err) {
    throw new CourierError('TEMPLATE_ERROR', `template ${name}: ${(err as Error).message}`, { template: name }, { cause: err });
  }
}
