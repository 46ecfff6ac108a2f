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
  const files: string[] = [];
  for (const { document } of changed) {
    const raw = snapshot.documents[document];
    // a files-source document has no version beyond its file: those are named together
    if (raw !== undefined && raw.version === undefined) {
      if (files.length === 0) out.push('');
      files.push(raw.origin);
      continue;
    }
    const text = raw === undefined ? `${document} removed from the source` : raw.version!;
    if (!out.includes(text)) out.push(text);
  }
  return out.map((text) => (text === '' ? `${files.length === 1 ? 'file' : 'files'} ${files.join(', ')}` : text));
}
