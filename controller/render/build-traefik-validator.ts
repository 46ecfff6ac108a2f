/**
 * Precompiles the Traefik v3 file-provider schema at build time (ajv standalone code), so no
 * courier process pays ajv's compile (~200-300 ms on a small machine) before its first render. The
 * generated module records the SHA-1 of the schema it was built from; validate-traefik-config.ts
 * uses it only when that still matches the schema file, and compiles at run time otherwise.
 *
 *   node dist/controller/render/build-traefik-validator.js      (run by `npm run build` / prepare)
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv } from 'ajv';
import standalone from 'ajv/dist/standalone/index.js';
import { packagePath } from '../package-root.js';

/** Where the build writes the precompiled validator (CommonJS, loaded with require). */
export const PRECOMPILED_VALIDATOR = ['dist', 'schemas', 'traefik-v3-validate.cjs'] as const;

/** The ajv options both the build and the run-time fallback use: the same validator either way. */
export const AJV_OPTIONS = { allErrors: true, strict: true } as const;

/** SHA-1 of the schema text: ties a precompiled validator to the schema it came from. */
export function schemaDigest(text: string): string {
  return createHash('sha1').update(text).digest('hex');
}

/** Write the standalone validator for `schemaFile` to `outFile`. */
export function buildTraefikValidator(schemaFile: string, outFile: string): void {
  const text = readFileSync(schemaFile, 'utf8');
  const ajv = new Ajv({ ...AJV_OPTIONS, code: { source: true } });
  // a CommonJS module seen from ESM: the function is its `default`
  const code = standalone.default(ajv, ajv.compile(JSON.parse(text) as object));
  mkdirSync(path.dirname(outFile), { recursive: true });
  writeFileSync(outFile, `${code}\nmodule.exports.schemaDigest = ${JSON.stringify(schemaDigest(text))};\n`);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  buildTraefikValidator(packagePath('schemas', 'traefik-v3-file-provider.json'), packagePath(...PRECOMPILED_VALIDATOR));
}
