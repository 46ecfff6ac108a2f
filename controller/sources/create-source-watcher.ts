/**
 * Build the watcher for the site's configured source (files, git or kubernetes). The git and
 * Kubernetes clients are imported only when configured, so the files source starts fast.
 */
import path from 'node:path';
import type { Config } from '../config/load-config.js';
import { readFilesSource } from './files-source.js';
import { createFilesWatcher } from './watch-files-source.js';
import type { SourceWatcher } from './source-watcher.js';

/** The SourceWatcher for `config.source`. */
export async function createSourceWatcher(config: Config): Promise<SourceWatcher> {
  const source = config.source;
  switch (source.type) {
    case 'files':
      return createFilesWatcher(source.path, {
        debounceMs: config.reconcile.debounce,
        displayBase: config.dir,
        readFiles: (dir) => readFilesSource(dir, { displayBase: config.dir }),
      });
    case 'git': {
      const { createGitSource } = await import('./git-source.js');
      return createGitSource({ url: source.url, ref: source.ref, path: source.path, cacheDir: path.join(config.state.dir, 'source-cache'), intervalMs: source.interval });
    }
    case 'kubernetes': {
      const { createKubernetesSource } = await import('./kubernetes-source.js');
      return createKubernetesSource({ namespace: source.namespace, kubeconfig: source.kubeconfig, watchdogMs: source.watchdog });
    }
  }
}

/** The source's documents now, through `watcher` when one runs, else a one-off watcher that is closed again. */
export async function readSourceNow(config: Config, watcher: SourceWatcher | undefined): Promise<Awaited<ReturnType<SourceWatcher['read']>>> {
  if (watcher) return watcher.read();
  const oneOff = await createSourceWatcher(config);
  try {
    return await oneOff.read();
  } finally {
    await oneOff.close();
  }
}
