/**
 * The fs client every isomorphic-git call in the store goes through: isomorphic-git's promise API,
 * served by node:fs's synchronous calls. The store is thousands of tiny loose-object files on local
 * disk; through fs.promises each object costs several thread-pool round trips (stat, open, read or
 * write, close), 0.3-1 ms, while the synchronous calls take tens of microseconds. A 1,000-node commit
 * writes ~4,000 objects, so this is the difference between seconds and a few hundred milliseconds;
 * the event loop is blocked only for one small file at a time.
 *
 * Every write is whole or absent: isomorphic-git writes a loose object or a ref straight to its
 * final path, so a full disk or a SIGKILL mid-write would leave an empty or truncated object that
 * later commits skip ("it exists") and `git fsck` reports corrupt. Here each file is written beside
 * its target under a name stock git ignores, then renamed over it (atomic within one file system).
 */
import fs from 'node:fs';
import path from 'node:path';

type PathArg = fs.PathLike;

let tempSeq = 0;

/** The temp name for `file`: `tmp_obj_*` inside objects/ (git's own, skipped by fsck), else `*.lock` (skipped by ref lookups). */
function tempNameFor(file: string): string {
  const dir = path.dirname(file);
  const unique = `${process.pid}-${++tempSeq}`;
  return path.basename(path.dirname(dir)) === 'objects' ? path.join(dir, `tmp_obj_courier-${unique}`) : `${file}.${unique}.lock`;
}

/** Write `file` whole or not at all: write a temp file beside it, then rename it into place. */
function writeFileWhole(file: PathArg, data: Uint8Array | string, options?: fs.WriteFileOptions): void {
  const target = String(file);
  const temp = tempNameFor(target);
  try {
    fs.writeFileSync(temp, data, options);
    fs.renameSync(temp, target);
  } catch (err) {
    fs.rmSync(temp, { force: true });
    throw err;
  }
}

/** node:fs, synchronously, behind the promise interface isomorphic-git expects. */
export const storeFs = {
  promises: {
    readFile: async (file: PathArg, options?: { encoding?: BufferEncoding | null } | BufferEncoding) => (file === undefined ? undefined : fs.readFileSync(file, options)),
    writeFile: async (file: PathArg, data: Uint8Array | string, options?: fs.WriteFileOptions) => writeFileWhole(file, data, options),
    mkdir: async (dir: PathArg, options?: fs.MakeDirectoryOptions) => void fs.mkdirSync(dir, options),
    rmdir: async (dir: PathArg) => fs.rmdirSync(dir),
    unlink: async (file: PathArg) => fs.unlinkSync(file),
    stat: async (file: PathArg) => fs.statSync(file),
    lstat: async (file: PathArg) => fs.lstatSync(file),
    readdir: async (dir: PathArg) => fs.readdirSync(dir),
    readlink: async (file: PathArg) => fs.readlinkSync(file),
    symlink: async (target: PathArg, file: PathArg) => fs.symlinkSync(target, file),
  },
};
