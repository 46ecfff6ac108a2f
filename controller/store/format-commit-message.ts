/**
 * The commit message: a subject saying what triggered the revision and how many nodes changed, one
 * line per changed node (and registry document), and trailers that `courier log --node` reads
 * without diffing trees:
 *
 *     file services.json changed: 2 node(s) changed
 *
 *       laptop-1: hosts (modified)
 *       vps-1: traefik.yml (modified)
 *       registry/services.json (modified)
 *
 *     Courier-Trigger: file services.json changed
 *     Courier-Nodes: laptop-1, vps-1
 */
import type { NodeChange, RegistryChange } from './model.js';
import { REGISTRY_DIR, registryFileName } from './store-layout.js';

/** Trailer naming what triggered the revision. */
export const TRIGGER_TRAILER = 'Courier-Trigger';
/** Trailer listing the nodes whose artifacts changed (absent when none did). */
export const NODES_TRAILER = 'Courier-Nodes';

/** A trigger on one line: whitespace runs (newlines included) collapse to one space. */
export function normalizeTrigger(trigger: string): string {
  const line = trigger.replace(/\s+/g, ' ').trim();
  return line === '' ? 'unspecified' : line;
}

/** The message of a revision with these changes. */
export function formatCommitMessage(trigger: string, changes: NodeChange[], registry: RegistryChange[]): string {
  const cause = normalizeTrigger(trigger);
  const subject = changes.length > 0 ? `${cause}: ${changes.length} node(s) changed` : `${cause}: registry only`;
  const body = [
    ...changes.map((change) => `  ${change.node}: ${change.artifacts.map((a) => `${a.name} (${a.change})`).join(', ')}`),
    ...registry.map((change) => `  ${REGISTRY_DIR}/${registryFileName(change.document)} (${change.change})`),
  ];
  const trailers = [`${TRIGGER_TRAILER}: ${cause}`];
  if (changes.length > 0) trailers.push(`${NODES_TRAILER}: ${changes.map((change) => change.node).join(', ')}`);
  return [subject, '', ...(body.length > 0 ? [...body, ''] : []), ...trailers, ''].join('\n');
}

/** Trigger and nodes read back from a message (trailers in its last paragraph; the subject stands in for a foreign commit's trigger). */
export function parseCommitMessage(message: string): { trigger: string; nodes: string[] } {
  const paragraphs = message.trimEnd().split(/\n\s*\n/);
  const trailers = new Map<string, string>();
  for (const line of (paragraphs.at(-1) ?? '').split('\n')) {
    const match = /^([A-Za-z0-9-]+):\s*(.*)$/.exec(line);
    if (match) trailers.set(match[1]!, match[2]!.trim());
  }
  const subject = message.split('\n', 1)[0] ?? '';
  const nodes = trailers.get(NODES_TRAILER);
  return {
    trigger: trailers.get(TRIGGER_TRAILER) ?? subject,
    nodes: nodes === undefined || nodes === '' ? [] : nodes.split(/\s*,\s*/),
  };
}
