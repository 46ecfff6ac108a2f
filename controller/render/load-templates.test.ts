import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TraefikModel, TraefikRouter } from './build-traefik-model.js';
import { compileTemplates, loadTemplates, TEMPLATE_FILES, type Templates } from './load-templates.js';
import { packagePath } from '../package-root.js';
import { validateTraefikConfig } from './validate-traefik-config.js';

/** A Traefik model holding one router pair and one service whose every string is `value`. */
function makeHostileModel(value: string): TraefikModel {
  const router = (name: string, extra: Partial<TraefikRouter>): TraefikRouter => ({
    name,
    rule: value,
    entryPoints: [value],
    middlewares: [],
    service: value,
    tls: null,
    ...extra,
  });
  return {
    empty: false,
    routers: [router(value, { tls: { certResolver: value } }), router(`${value}-http`, { middlewares: [value] })],
    services: [{ name: value, urls: [value] }],
    middlewares: [{ name: value, scheme: value }],
  };
}

let templates: Templates;
let tmp: string;
beforeAll(async () => {
  templates = await loadTemplates();
  tmp = await mkdtemp(path.join(os.tmpdir(), 'courier-templates-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

describe('loadTemplates', () => {
  it('finds the package templates directory from the module location', () => {
    expect(packagePath('templates', TEMPLATE_FILES.traefik)).toBe(path.resolve(import.meta.dirname, '../../templates/traefik.yml.hbs'));
  });

  it('reads templates from a given directory', async () => {
    await writeFile(path.join(tmp, 'hosts.hbs'), '{{#each lines}}{{name}}\n{{/each}}');
    await writeFile(path.join(tmp, 'traefik.yml.hbs'), 'http: {}\n');
    const loaded = await loadTemplates(tmp);
    expect(loaded.hosts({ lines: [{ ip: '10.0.0.1', name: 'a.local' }] })).toBe('a.local\n');
  });

  it('fails with TEMPLATE_ERROR when a template is missing', async () => {
    await expect(loadTemplates(path.join(tmp, 'nowhere'))).rejects.toMatchObject({ code: 'TEMPLATE_ERROR' });
  });

  it('fails with TEMPLATE_ERROR when a template does not parse', () => {
    expect(() => compileTemplates({ hosts: '{{#each lines}}', traefik: '' })).toThrow(expect.objectContaining({ code: 'TEMPLATE_ERROR' }));
  });

  it('fails with TEMPLATE_ERROR when a template uses an unknown helper', () => {
    expect(() => compileTemplates({ hosts: '{{shout name}}', traefik: '' })).toThrow(expect.objectContaining({ code: 'TEMPLATE_ERROR' }));
  });

  it('the Traefik template prints every value through the json helper', async () => {
    const source = await readFile(packagePath('templates', TEMPLATE_FILES.traefik), 'utf8');
    const withoutComments = source.replace(/\{\{!--[\s\S]*?--\}\}/g, '');
    const expressions = [...withoutComments.matchAll(/\{\{\{?([^}]*)\}?\}\}/g)].map((m) => (m[1] ?? '').trim());
    const printed = expressions.filter((e) => !/^[#/]|^else$/.test(e));
    expect(printed.length).toBeGreaterThan(0);
    for (const expression of printed) expect(expression).toMatch(/^json \S+$/);
    expect(withoutComments).not.toContain('{{{');
  });
});

describe('the Traefik template with hostile strings (no TypeScript checks in between)', () => {
  const hostile = ['a\nb', 'a`b', 'a"b', "a'b", 'a#b', 'a: b', 'a\rb', 'a\\b', 'a\u2028b', 'a\u0085b', 'a\tb', '{{json x}}', 'x"\n    evil:\n      rule: "y', '- z', '&anchor', '*alias', '!!binary', '? k', '', ' ', '\ufeffa'];

  it.each(hostile)('%j stays one scalar: the parsed file holds exactly the model', (value) => {
    const text = templates.traefik(makeHostileModel(value));
    const routers = { [value]: { rule: value, entryPoints: [value], service: value, tls: { certResolver: value } } };
    const expected = {
      http: {
        routers: { ...routers, [`${value}-http`]: { rule: value, entryPoints: [value], middlewares: [value], service: value } },
        services: { [value]: { loadBalancer: { servers: [{ url: value }] } } },
        middlewares: { [value]: { redirectScheme: { scheme: value, permanent: true } } },
      },
    };
    expect(parse(text, { uniqueKeys: true, strict: true })).toEqual(expected);
    expect(text.split('\n')).toHaveLength(templates.traefik(makeHostileModel('safe')).split('\n').length);
  });

  it('a file of empty strings parses but fails validation (empty rule and entry point)', () => {
    const text = templates.traefik(makeHostileModel(''));
    expect(() => validateTraefikConfig(text, 'x')).toThrow(expect.objectContaining({ code: 'RENDER_INVALID', data: expect.objectContaining({ path: '$.http.routers[""].rule' }) }));
  });
});
