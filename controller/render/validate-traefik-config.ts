/**
 * The last gate before a Traefik file is committed: strict YAML, the Traefik v3 file-provider JSON
 * schema, and the cross-references the schema cannot express (a router's service and middlewares
 * must exist in the same file).
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { CORE_SCHEMA, load as loadYaml, type YAMLException } from 'js-yaml';
import { CourierError } from '../errors.js';
import { packagePath } from '../package-root.js';
import { AJV_OPTIONS, PRECOMPILED_VALIDATOR, schemaDigest } from './build-traefik-validator.js';

/** The schema file, relative to courier's package root (SchemaStore's, see schemas/SOURCE.txt). */
export const TRAEFIK_SCHEMA_FILE = 'schemas/traefik-v3-file-provider.json';

let validateSchema: ValidateFunction | undefined;

/**
 * Throw RENDER_INVALID (`<where>: <json path>: <problem>`) unless `text` is strict YAML (no
 * duplicate keys) that validates against the Traefik v3 file-provider schema and whose routers name
 * only services and middlewares defined in it, on non-empty entry points.
 */
export function validateTraefikConfig(text: string, where: string): void {
  // js-yaml: strict about duplicate keys, and an order of magnitude faster than the `yaml` package
  // on files with thousands of routers (this runs for every VPS on every render)
  let config: unknown;
  try {
    config = loadYaml(text, { schema: CORE_SCHEMA, json: false });
  } catch (err) {
    const mark = (err as YAMLException).mark as { line: number; column: number } | undefined;
    const reason = (err as YAMLException).reason ?? (err as Error).message;
    const problem = /duplicated mapping key/.test(reason) ? `Map keys must be unique (${reason})` : reason;
    fail(where, '$', `not valid YAML at line ${(mark?.line ?? 0) + 1}, column ${(mark?.column ?? 0) + 1}: ${problem}`);
  }
  const validate = compileSchema();
  if (!validate(config)) {
    const error = pickError(validate.errors ?? []);
    const missing = (error?.params as { missingProperty?: string } | undefined)?.missingProperty;
    const path = formatJsonPath(error?.instancePath ?? '', ...(missing === undefined ? [] : [missing]));
    fail(where, path, missing === undefined ? describeError(error) : 'is missing (required by the Traefik v3 file-provider schema)');
  }
  checkReferences(config as TraefikConfig, where);
}

/** The part of the file-provider shape the cross-reference checks read (already schema-valid). */
interface TraefikConfig {
  http?: {
    routers?: Record<string, { service?: string; middlewares?: string[]; entryPoints?: string[]; rule?: string }>;
    services?: Record<string, unknown>;
    middlewares?: Record<string, unknown>;
  };
}

function checkReferences(config: TraefikConfig, where: string): void {
  const http = config.http ?? {};
  const services = http.services ?? {};
  const middlewares = http.middlewares ?? {};
  for (const [name, router] of Object.entries(http.routers ?? {})) {
    const path = ['http', 'routers', name];
    if (typeof router.rule !== 'string' || router.rule.trim() === '') fail(where, formatJsonPath(path, 'rule'), 'missing (an HTTP router needs a rule)');
    if (router.service === undefined) fail(where, formatJsonPath(path, 'service'), 'missing (an HTTP router needs a service)');
    if (!Object.hasOwn(services, router.service)) {
      fail(where, formatJsonPath(path, 'service'), `names service ${JSON.stringify(router.service)}, which http.services does not define`);
    }
    (router.middlewares ?? []).forEach((middleware, i) => {
      if (!Object.hasOwn(middlewares, middleware)) {
        fail(where, formatJsonPath(path, 'middlewares', i), `names middleware ${JSON.stringify(middleware)}, which http.middlewares does not define`);
      }
    });
    (router.entryPoints ?? []).forEach((entryPoint, i) => {
      if (entryPoint.trim() === '') fail(where, formatJsonPath(path, 'entryPoints', i), 'is empty (name an entry point of the static configuration)');
    });
  }
}

function compileSchema(): ValidateFunction {
  if (validateSchema === undefined) {
    const text = readFileSync(packagePath(TRAEFIK_SCHEMA_FILE), 'utf8');
    validateSchema = loadPrecompiled(schemaDigest(text)) ?? new Ajv(AJV_OPTIONS).compile(JSON.parse(text) as object);
  }
  return validateSchema;
}

/** The validator `npm run build` precompiled, when it was built from this very schema text. */
export function loadPrecompiled(digest: string, file = packagePath(...PRECOMPILED_VALIDATOR)): ValidateFunction | undefined {
  if (!existsSync(file)) return undefined;
  const loaded = createRequire(import.meta.url)(file) as ValidateFunction & { default?: ValidateFunction; schemaDigest?: string };
  const validate = loaded.default ?? loaded;
  return loaded.schemaDigest === digest && typeof validate === 'function' ? validate : undefined;
}

/** The most specific error: the deepest instance path (a oneOf reports every branch; the real problem is deepest). */
function pickError(errors: ErrorObject[]): ErrorObject | undefined {
  const depth = (e: ErrorObject) => (e.instancePath === '' ? 0 : e.instancePath.split('/').length);
  return errors.reduce<ErrorObject | undefined>((best, e) => (best === undefined || depth(e) > depth(best) ? e : best), undefined);
}

function describeError(error: ErrorObject | undefined): string {
  if (error === undefined) return 'does not match the Traefik v3 file-provider schema';
  const params = error.params as { additionalProperty?: string };
  const detail = params.additionalProperty === undefined ? '' : ` (${JSON.stringify(params.additionalProperty)})`;
  return `${error.message ?? 'is invalid'}${detail} (Traefik v3 file-provider schema)`;
}

/** `$.http.routers["a-b"].service` from a JSON pointer (`/http/routers/a-b/service`) or from segments. */
function formatJsonPath(pointerOrSegments: string | (string | number)[], ...more: (string | number)[]): string {
  const segments =
    typeof pointerOrSegments === 'string'
      ? pointerOrSegments
          .split('/')
          .slice(1)
          .map((s) => s.replaceAll('~1', '/').replaceAll('~0', '~'))
      : pointerOrSegments;
  return [...segments, ...more].reduce<string>((path, s) => {
    if (typeof s === 'number' || /^\d+$/.test(s)) return `${path}[${s}]`;
    return /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(s) ? `${path}.${s}` : `${path}[${JSON.stringify(s)}]`;
  }, '$');
}

function fail(where: string, path: string, problem: string): never {
  throw new CourierError('RENDER_INVALID', `${where}: ${path}: ${problem}`, { where, path, problem });
}
