/**
 * The one way the registry stage (and a source that finds, say, two twins of one document) reports
 * an invalid registry: a REGISTRY_INVALID CourierError whose message lists every problem, one per
 * line, and whose data carries them for machines.
 */
import { CourierError } from '../errors.js';
import { DOCUMENT_NAMES, type RegistryProblem } from './model.js';

/** One problem as a line: `<origin>: <json path>: <message>`. */
export function formatProblem(problem: RegistryProblem): string {
  return `${problem.origin}: ${problem.path}: ${problem.message}`;
}

/** A REGISTRY_INVALID error listing all `problems` (sorted by document, otherwise in the order found). */
export function createRegistryError(problems: RegistryProblem[]): CourierError {
  const sorted = [...problems].sort((a, b) => DOCUMENT_NAMES.indexOf(a.document) - DOCUMENT_NAMES.indexOf(b.document));
  const count = sorted.length === 1 ? '1 problem' : `${sorted.length} problems`;
  const message = [`registry is invalid (${count}):`, ...sorted.map(formatProblem)].join('\n');
  return new CourierError('REGISTRY_INVALID', message, { problems: sorted });
}
