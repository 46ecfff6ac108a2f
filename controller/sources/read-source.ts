/** The source stage's entry: read the configured registry source into a snapshot. */
import { CourierError } from '../errors.js';
import type { Config } from '../config/load-config.js';
import type { RegistrySnapshot } from '../registry/model.js';
import { readFilesSource } from './files-source.js';

/** Read the registry documents from the site's configured source. */
export async function readSource(config: Config): Promise<RegistrySnapshot> {
  const source = config.source;
  switch (source.type) {
    case 'files':
      return readFilesSource(source.path, { displayBase: config.dir });
    default:
      throw new CourierError('CONFIG_INVALID', `${config.file}: source.type: ${source.type} cannot be read by a one-shot command yet; use source.type: files`, {
        file: config.file,
        type: source.type,
      });
  }
}
