/**
 * Watches a files-source directory with chokidar and reports, debounced, which registry files
 * changed. The directory is watched, not the files: editors save by writing a temp file and renaming
 * it over the original (vim, VS Code, `sed -i`), and files may be deleted and re-created, which
 * breaks a watch on the file's inode. Writes arrive as bursts of events; the trailing debounce waits
 * until the directory has been quiet for `debounceMs` before reporting, so a file still being written
 * in pieces is not read torn (and if it were, validation rejects it and the final write's event
 * triggers again). The registry directory itself may be missing at start, deleted, or replaced by
 * another directory renamed over it; the trigger then names the directory (`registry/`).
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

  // The parent is watched too (only for the registry directory's own entry), so a directory that is
  // missing at start, deleted, or replaced by another one (`mv new registry`) is seen when it appears.
  const parent = path.dirname(root);
  const watchRoot = parent === root ? root : parent;
  const dirLabel = `${path.basename(root) || root}/`;

  let watcher: FSWatcher | undefined;
  let started = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let burstStartedAt: number | undefined;
  let abortOpen: (() => void) | undefined;
  let reopening: Promise<void> | undefined;
  const changed = new Set<string>();

  /** Record one changed file and (re)arm the trailing debounce. */
  function noteChange(fileName: string, onChange: (trigger: string) => void): void {
    if (closed) return;
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

  /** Create the chokidar watcher and resolve once its initial scan is done (or close() is called). */
  async function openWatcher(onChange: (trigger: string) => void, onError: ((err: CourierError) => void) | undefined): Promise<void> {
    const fsWatcher = watch(watchRoot, {
      ignoreInitial: true,
      // The parent's entries and the registry directory's entries: registry files are never deeper.
      depth: watchRoot === root ? 0 : 1,
      ignored: (candidate: string) => !(candidate === watchRoot || candidate === root || path.dirname(candidate) === root),
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
      if (closed || fsWatcher !== watcher) return;
      const absolute = path.resolve(watchRoot, filePath);
      if (absolute === root && (event === 'addDir' || event === 'unlinkDir')) {
        noteChange(dirLabel, onChange);
        // chokidar keeps state for the old directory's inode and misses later events in a directory
        // that took its place: start over with a fresh watcher.
        if (event === 'addDir') void reopenWatcher(onChange, onError);
        return;
      }
      if (path.dirname(absolute) !== root) return;
      const fileName = path.basename(absolute);
      if ((event === 'add' || event === 'change' || event === 'unlink') && findRegistryFile(fileName) !== undefined) noteChange(fileName, onChange);
    });
    // chokidar sees `..data` as a directory and reports nothing when the symlink is swapped for one
    // to a new directory; the raw fs.watch event of the registry directory does show the rename.
    fsWatcher.on('raw', (rawEvent, fileName, details) => {
      if (closed || fsWatcher !== watcher) return;
      const watchedPath = path.resolve(String((details as { watchedPath?: unknown }).watchedPath));
      if (watchedPath === root && fileName === CONFIGMAP_DATA_LINK) noteChange(fileName, onChange);
      // Another directory renamed over the registry directory: chokidar reports nothing (the path is
      // still a directory), the parent's raw event shows it.
      if (watchedPath === parent && watchRoot === parent && rawEvent === 'rename' && fileName === path.basename(root)) {
        noteChange(dirLabel, onChange);
        void reopenWatcher(onChange, onError);
      }
    });
    fsWatcher.on('error', (err) => {
      if (closed || fsWatcher !== watcher) return;
      const message = err instanceof Error ? err.message : String(err);
      onError?.(
        new CourierError('SOURCE_UNAVAILABLE', `${shown}: watching the registry directory failed: ${message}; check that it exists and is readable`, { dir: root }, { cause: err }),
      );
    });
    await new Promise<void>((resolve) => {
      abortOpen = resolve;
      fsWatcher.once('ready', () => resolve());
    });
    abortOpen = undefined;
  }

  /** Replace the chokidar watcher with a fresh one, then report again so the read comes after it is in place. */
  function reopenWatcher(onChange: (trigger: string) => void, onError: ((err: CourierError) => void) | undefined): Promise<void> {
    reopening ??= (async () => {
      await watcher?.close();
      if (!closed) await openWatcher(onChange, onError);
      // A write in the gap between the two watchers is covered: the read this triggers comes after it.
      noteChange(dirLabel, onChange);
    })().finally(() => {
      reopening = undefined;
    });
    return reopening;
  }

  return {
    read: () => options.readFiles(root),

    async start(onChange, onError) {
      if (closed) throw new Error('createFilesWatcher: start() after close()');
      if (started) throw new Error('createFilesWatcher: start() called twice');
      started = true;
      // Resolves once the initial scan is done, so every change made after start() is seen.
      await openWatcher(onChange, onError);
    },

    async close() {
      closed = true;
      clearTimeout(timer);
      timer = undefined;
      changed.clear();
      abortOpen?.();
      await reopening;
      await watcher?.close();
    },
  };
}
