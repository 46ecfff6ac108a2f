/**
 * The fs client every isomorphic-git call in the store goes through: isomorphic-git's promise API,
 * served by node:fs's synchronous calls. The store is thousands of tiny loose-object files on local
 * disk; through fs.promises each object costs several thread-pool round trips (stat, open, read or
 * write, close), 0.3-1 ms, while the synchronous calls take tens of microseconds. A 1,000-node commit
 * writes ~4,000 objects, so this is the difference between seconds and a few hundred milliseconds;
 * the event loop is blocked only for one small file at a time.
 */
import fs from 'node:fs';

type PathArg = fs.PathLike;

/** node:fs, synchronously, behind the promise interface isomorphic-git expects. */
export const storeFs = {
  promises: {
    readFile: async (file: PathArg, options?: { encoding?: BufferEncoding | null } | BufferEncoding) => (file === undefined ? undefined : fs.readFileSync(file, options)),
    writeFile: async (file: PathArg, data: Uint8Array | string, options?: fs.WriteFileOptions) => fs.writeFileSync(file, data, options),
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
