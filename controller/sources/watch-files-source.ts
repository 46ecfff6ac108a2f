/**
 * Watches a files-source directory with chokidar and reports, debounced, which registry files
 * changed. The directory is watched, not the files: editors save by writing a temp file and renaming
 * it over the original (vim, VS Code, `sed -i`), and files may be deleted and re-created, which
 * breaks a watch on the file's inode. Writes arrive as bursts of events; the trailing debounce waits
 * until the directory has been quiet for `debounceMs` before reporting, so a file still being written
 * in pieces is not read torn (and if it were, validation rejects it and the final write's event
 * triggers again).
 */
import path from 'node:path';
import { watch, type FSWatcher } from 'chokidar';
import { CourierError } from '../errors.js';
import type { RegistrySnapshot } from '../registry/model.js';
import { findRegistryFile, type SourceWatcher } from './source-watcher.js';

/** Options for createFilesWatcher. */
export interface FilesWatcherOptions {
  /** Quiet time after the last event before onChange is called (reconcile.debounce). */
  debounceMs: number;
  /** Directory that error messages show the watched directory relative to (the site directory). */
  displayBase?: string;
  /** Reads the directory into a snapshot (the files source reader). */
  readFiles: (dir: string) => Promise<RegistrySnapshot>;
}

// A Kubernetes ConfigMap mounted as a volume updates by swapping the `..data` symlink; the registry
// file names are symlinks through it and never change themselves.
const CONFIGMAP_DATA_LINK = '..data';

// A writer that never pauses (a log-like rewrite loop) would postpone the trailing debounce forever;
// report at least this many debounce periods after the first event of a burst.
const MAX_WAIT_DEBOUNCES = 20;

/** A SourceWatcher over a files-source directory: `read()` delegates to `readFiles`, `start()` watches with chokidar. */
export function createFilesWatcher(dir: string, options: FilesWatcherOptions): SourceWatcher {
  const root = path.resolve(dir);
  const relativeToBase = options.displayBase === undefined ? undefined : path.relative(options.displayBase, root);
  const shown = relativeToBase === undefined || relativeToBase.startsWith('..') || path.isAbsolute(relativeToBase) ? root : relativeToBase || '.';
  const debounceMs = Math.max(0, options.debounceMs);
  const maxWaitMs = Math.max(debounceMs * MAX_WAIT_DEBOUNCES, 1_000);

  let watcher: FSWatcher | undefined;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let burstStartedAt: number | undefined;
  let abortStart: (() => void) | undefined;
  const changed = new Set<string>();

  /** Record one changed file and (re)arm the trailing debounce. */
  function noteChange(fileName: string, onChange: (trigger: string) => void): void {
    changed.add(fileName);
    const now = Date.now();
    burstStartedAt ??= now;
    clearTimeout(timer);
    const wait = Math.min(debounceMs, Math.max(0, burstStartedAt + maxWaitMs - now));
    timer = setTimeout(() => reportChanges(onChange), wait);
  }

  /** Hand the burst's file names to onChange, sorted and without duplicates. */
  function reportChanges(onChange: (trigger: string) => void): void {
    timer = undefined;
    burstStartedAt = undefined;
    if (closed || changed.size === 0) return;
    const names = [...changed].sort();
    changed.clear();
    onChange(`file change: ${names.join(', ')}`);
  }

  return {
    read: () => options.readFiles(root),

    async start(onChange, onError) {
      if (closed) throw new Error('createFilesWatcher: start() after close()');
      if (watcher) throw new Error('createFilesWatcher: start() called twice');
      const fsWatcher = watch(root, {
        ignoreInitial: true,
        // Only the directory's own entries: registry files are never in subdirectories.
        depth: 0,
        // Re-adding a file within 100 ms of its unlink is reported as one change, and editor swap and
        // backup files (`.x.swp`, `x~`) are ignored: the rename-over saves of vim and VS Code.
        atomic: true,
        // Follow symlinks so a ConfigMap volume's `services.json -> ..data/services.json` is watched.
        followSymlinks: true,
        // The own trailing debounce does the waiting; awaitWriteFinish would add a stat-polling delay to
        // every event and holds back events for files that are unlinked while it polls.
        awaitWriteFinish: false,
        ignorePermissionErrors: true,
      });
      watcher = fsWatcher;
      fsWatcher.on('all', (event, filePath) => {
        if (closed || path.dirname(path.resolve(root, filePath)) !== root) return;
        const fileName = path.basename(filePath);
        if ((event === 'add' || event === 'change' || event === 'unlink') && findRegistryFile(fileName) !== undefined) noteChange(fileName, onChange);
      });
      // chokidar sees `..data` as a directory and reports nothing when the symlink is swapped for one
      // to a new directory; the raw fs.watch event of the watched directory does show the rename.
      fsWatcher.on('raw', (_event, fileName, details) => {
        if (closed || fileName !== CONFIGMAP_DATA_LINK || path.resolve(String((details as { watchedPath?: unknown }).watchedPath)) !== root) return;
        noteChange(fileName, onChange);
      });
      fsWatcher.on('error', (err) => {
        if (closed) return;
        const message = err instanceof Error ? err.message : String(err);
        onError?.(
          new CourierError('SOURCE_UNAVAILABLE', `${shown}: watching the registry directory failed: ${message}; check that it exists and is readable`, { dir: root }, { cause: err }),
        );
      });
      // Resolve once the initial scan is done, so every change made after start() is seen (or at
      // close(), which would otherwise leave a caller waiting for a scan that never finishes).
      await new Promise<void>((resolve) => {
        abortStart = resolve;
        fsWatcher.once('ready', () => resolve());
      });
      abortStart = undefined;
    },

    async close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      changed.clear();
      abortStart?.();
      await watcher?.close();
    },
  };
}
