/**
 * Which domain a public service without a routing entry is served on. Shared by the registry stage
 * (to check public host names for conflicts) and render (to write the routes), so both agree.
 */
import type { Registry } from './model.js';

/** The configured `traefik.publicDomain`, else the only domain in domains.json, else undefined. */
export function defaultPublicDomain(registry: Pick<Registry, 'domains'>, configured?: string): string | undefined {
  if (configured !== undefined && configured !== '') return configured;
  return registry.domains.length === 1 ? registry.domains[0] : undefined;
}
