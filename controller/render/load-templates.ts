/**
 * The Handlebars templates rendering formats its models with. Loading reads files (I/O) and is
 * kept apart from rendering, which is pure and receives the compiled templates.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import Handlebars from 'handlebars';
import { CourierError } from '../errors.js';
import type { HostsModel } from './build-hosts-model.js';
import type { TraefikModel } from './build-traefik-model.js';
import { packagePath } from '../package-root.js';

/** The compiled templates, one per artifact type. */
export interface Templates {
  hosts: HandlebarsTemplateDelegate<HostsModel>;
  traefik: HandlebarsTemplateDelegate<TraefikModel>;
}

/** Template sources as text, keyed like Templates. */
export type TemplateSources = Record<keyof Templates, string>;

/** The file in the templates directory for each template. */
export const TEMPLATE_FILES: Record<keyof Templates, string> = { hosts: 'hosts.hbs', traefik: 'traefik.yml.hbs' };

/** Read and compile the templates from `dir` (default: the `templates/` directory of courier's package). */
export async function loadTemplates(dir: string = packagePath('templates')): Promise<Templates> {
  const read = async (name: keyof Templates): Promise<string> => {
    const file = path.join(dir, TEMPLATE_FILES[name]);
    try {
      return await readFile(file, 'utf8');
    } catch (err) {
      throw new CourierError('TEMPLATE_ERROR', `${file}: cannot read template: ${(err as Error).message}`, { file }, { cause: err });
    }
  };
  return compileTemplates({ hosts: await read('hosts'), traefik: await read('traefik') });
}

/**
 * Compile template sources in a private Handlebars environment. Strict mode makes a missing model
 * field an error instead of an empty string; only the built-in helpers and `json` exist. HTML
 * escaping stays on: the hosts template prints only validated IPs and names (which it leaves
 * unchanged), and `json` returns a SafeString so its quotes survive.
 */
export function compileTemplates(sources: TemplateSources): Templates {
  const hb = Handlebars.create();
  hb.registerHelper('json', (value: unknown) => {
    if (typeof value !== 'string') throw new Error(`json helper: expected a string, got ${typeof value}`);
    return new hb.SafeString(quoteYamlString(value));
  });
  const options: CompileOptions = { strict: true, knownHelpers: { json: true }, knownHelpersOnly: true };
  const compile = <T>(name: keyof Templates): HandlebarsTemplateDelegate<T> => {
    try {
      // compile() is lazy; precompiling now reports a syntax error or an unknown helper at load
      // time, not at the first render.
      hb.precompile(sources[name], options);
      return hb.compile<T>(sources[name], options);
    } catch (err) {
      throw new CourierError('TEMPLATE_ERROR', `templates/${TEMPLATE_FILES[name]}: ${(err as Error).message}`, { template: name }, { cause: err });
    }
  };
  return { hosts: compile<HostsModel>('hosts'), traefik: compile<TraefikModel>('traefik') };
}

/**
 * A JSON string literal, which is also a YAML double-quoted scalar. JSON already escapes quotes,
 * backslashes and C0 controls; the characters YAML 1.1 readers treat as line breaks (NEL, LS, PS)
 * and the other C1 controls and BOM are escaped too, so the scalar stays on one line for any reader.
 */
function quoteYamlString(value: string): string {
  return JSON.stringify(value).replace(/[\u007f-\u009f\u2028\u2029\ufeff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
