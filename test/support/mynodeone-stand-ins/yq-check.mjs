/* global process, console */
// `yq eval FILE` for MyNodeOne's scripts: exit 0 when FILE parses as YAML, 1 (with the reason) when not.
import { readFileSync } from 'node:fs';
import yaml from 'js-yaml';

const args = process.argv.slice(2).filter((a) => a !== 'eval' && !a.startsWith('-'));
try {
  yaml.load(readFileSync(args[args.length - 1], 'utf8'));
} catch (err) {
  console.error(String(err.message).split('\n')[0]);
  process.exit(1);
}
