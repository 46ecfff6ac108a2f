/**
 * The source side of a commit trigger: which source change each changed registry document came
 * from (`configmap service-registry resourceVersion 107`, `file registry/services.json`, `git commit
 * 1a2b3c4d5e6f of <url>`). Only documents whose stored form changed are named, so a ConfigMap
 * event that changed nothing courier stores (a status write-back) never appears as a cause. Pure.
 */
import type { DocumentName, RegistrySnapshot } from '../registry/model.js';

/** One description per source change behind the changed documents, in document order, without repeats. */
export function describeSourceChanges(snapshot: RegistrySnapshot, changed: readonly { document: DocumentName }[]): string[] {
  const out: string[] = [];
  for (const { document } of changed) {
    const raw = snapshot.documents[document];
    const text = raw === undefined ? `${document} removed from the source` : (raw.version ?? `file ${raw.origin}`);
    if (!out.includes(text)) out.push(text);
  }
  return out;
}
