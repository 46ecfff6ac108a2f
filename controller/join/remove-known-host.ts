/** Removing a node's lines from ssh.knownHosts (`nodes remove --revoke`, and a join's undo). */
import { readFile } from 'node:fs/promises';
import { hostMatches, parseKnownHosts } from '../transport/known-hosts.js';
import { writeFileAtomic } from '../registry-edit/write-file-atomic.js';

/** Drop every line naming host:port (plain or hashed); other lines stay byte for byte. Returns how many went. */
export async function removeKnownHost(file: string, host: string, port: number): Promise<number> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw err;
  }
  const lines = text.split(/(?<=\n)/);
  const kept = lines.filter((line) => !parseKnownHosts(line).some((entry) => hostMatches(entry.names, host, port)));
  if (kept.length !== lines.length) await writeFileAtomic(file, kept.join(''));
  return lines.length - kept.length;
}
