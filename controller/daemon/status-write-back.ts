/**
 * With the kubernetes source, node status is also written back into `registry.json` of
 * `sync-controller-registry` (MyNodeOne's fields), at most once per second, with optimistic
 * concurrency (the writer re-reads on conflict). courier's own status file stays the source of truth.
 */
import os from 'node:os';
import type { Config } from '../config/load-config.js';
import type { Logger } from '../logger.js';
import type { StatusDocument } from '../status/status-file.js';

/** Debounced write-back; a no-op for non-kubernetes sources. */
export interface StatusWriteBack {
  schedule(doc: StatusDocument): void;
  flush(): Promise<void>;
}

/** Create the write-back for the site's source. */
export async function createStatusWriteBack(config: Config, logger: Logger, delayMs = 1000): Promise<StatusWriteBack> {
  const source = config.source;
  if (source.type !== 'kubernetes') return { schedule: () => undefined, flush: async () => undefined };
  const { writeStatusToConfigMap } = await import('../status/kubernetes-status-writer.js');
  const { loadKubernetesConfig } = await import('../sources/kubernetes-config.js');
  const kubeConfig = loadKubernetesConfig(source.kubeconfig);
  let pending: StatusDocument | undefined;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const write = () => {
    const doc = pending;
    pending = undefined;
    timer = undefined;
    if (!doc) return running;
    running = running
      .then(() => writeStatusToConfigMap(kubeConfig, source.namespace, Object.values(doc.nodes), { updatedBy: `courier@${os.hostname()}`, now: new Date() }))
      .catch((err: unknown) => logger.warn({ stage: 'status', err: { message: (err as Error).message } }, 'status write-back to sync-controller-registry failed; will retry on the next change'));
    return running;
  };
  return {
    schedule(doc) {
      pending = doc;
      timer ??= setTimeout(() => void write(), delayMs);
    },
    async flush() {
      clearTimeout(timer);
      await write();
    },
  };
}
