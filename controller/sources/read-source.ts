/** The source stage's entry: read the configured registry source once into a snapshot. */
import type { Config } from '../config/load-config.js';
import type { RegistrySnapshot } from '../registry/model.js';
import { readFilesSource } from './files-source.js';
import { createSourceWatcher } from './create-source-watcher.js';

/** Read the registry documents from the site's configured source. */
export async function readSource(config: Config): Promise<RegistrySnapshot> {
  if (config.source.type === 'files') return readFilesSource(config.source.path, { displayBase: config.dir });
  const watcher = await createSourceWatcher(config);
  try {
    return await watcher.read();
  } finally {
    await watcher.close();
  }
}
