/**
 * Atomic file replacement for registry documents: the new text goes to a temporary file in the same
 * directory (rename is atomic only within one filesystem), is flushed to disk, and is renamed over
 * the document, so a daemon watching the directory reads either the old or the new text, never a
 * torn one. The temporary name starts with a dot and is not a registry file name, so the watcher
 * ignores it. A symlinked document (a ConfigMap volume's `..data/` link) is replaced at its target.
 */
import { randomBytes } from 'node:crypto';
import { open, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';

/** Replace `file` with `text` atomically, keeping the file's permission bits (0644 less umask for a new file). */
export async function writeFileAtomic(file: string, text: string): Promise<void> {
  const target = await realpath(file).catch(() => file);
  const mode = await stat(target).then(
    (s) => s.mode & 0o7777,
    () => 0o666,
  );
  const temp = path.join(path.dirname(target), `.${path.basename(target)}.courier-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', mode);
  try {
    try {
      await handle.writeFile(text, 'utf8');
      // Flush before the rename: after a crash the document is old or new, never empty.
      await handle.sync();
      await handle.chmod(mode);
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}
