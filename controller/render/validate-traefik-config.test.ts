import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { describe, expect, it } from 'vitest';
import { packagePath } from '../package-root.js';
import { AJV_OPTIONS, schemaDigest } from './build-traefik-validator.js';
import { loadPrecompiled, TRAEFIK_SCHEMA_FILE, validateTraefikConfig } from './validate-traefik-config.js';

const HEADER = '# Managed by courier: generated from the registry; local edits are overwritten.\n';

/** A valid file with one router pair; `edit` rewrites parts of it for each rejection case. */
function makeFile(edit: (text: string) => string = (t) => t): string {
  return edit(`${HEADER}http:
  routers:
    "app-www-example-com":
      rule: "Host(\`www.example.com\`)"
      entryPoints:
        - "websecure"
      service: "app-service"
      tls:
        certResolver: "letsencrypt"
    "app-www-example-com-http":
      rule: "Host(\`www.example.com\`)"
      entryPoints:
        - "web"
      middlewares:
        - "https-redirect"
      service: "app-service"
  services:
    "app-service":
      loadBalancer:
        servers:
          - url: "http://10.0.0.1:80"
  middlewares:
    "https-redirect":
      redirectScheme:
        scheme: "https"
        permanent: true
`);
}

describe('validateTraefikConfig', () => {
  it('accepts a valid file', () => {
    expect(() => validateTraefikConfig(makeFile(), 'nodes/vps/traefik.yml')).not.toThrow();
  });

  it('accepts the empty-VPS file', () => {
    expect(() => validateTraefikConfig(`${HEADER}http: {}\n`, 'nodes/vps/traefik.yml')).not.toThrow();
  });

  const rejections: { name: string; text: string; path: string; problem: RegExp }[] = [
    {
      name: 'a router naming a missing service',
      text: makeFile((t) => t.replace('service: "app-service"\n      tls', 'service: "gone-service"\n      tls')),
      path: '$.http.routers["app-www-example-com"].service',
      problem: /names service "gone-service", which http.services does not define/,
    },
    {
      name: 'a router naming a missing middleware',
      text: makeFile((t) => t.replace('- "https-redirect"', '- "auth"')),
      path: '$.http.routers["app-www-example-com-http"].middlewares[0]',
      problem: /names middleware "auth", which http.middlewares does not define/,
    },
    {
      name: 'a schema violation: servers as a string',
      text: makeFile((t) => t.replace('servers:\n          - url: "http://10.0.0.1:80"', 'servers: "http://10.0.0.1:80"')),
      path: '$.http.services["app-service"].loadBalancer.servers',
      problem: /must be array/,
    },
    {
      name: 'a schema violation: an unknown top-level key',
      text: makeFile((t) => `${t}routes: {}\n`),
      path: '$',
      problem: /must NOT have additional properties \("routes"\)/,
    },
    {
      name: 'duplicate YAML keys',
      text: makeFile((t) => t.replace('    "app-www-example-com-http":', '    "app-www-example-com":')),
      path: '$',
      problem: /not valid YAML at line \d+, column \d+: Map keys must be unique/,
    },
    {
      name: 'an empty entry point',
      text: makeFile((t) => t.replace('- "web"', '- ""')),
      path: '$.http.routers["app-www-example-com-http"].entryPoints[0]',
      problem: /is empty/,
    },
    {
      name: 'a router without a service',
      text: makeFile((t) => t.replace('      service: "app-service"\n      tls', '      tls')),
      path: '$.http.routers["app-www-example-com"].service',
      problem: /missing/,
    },
    {
      name: 'an empty document',
      text: HEADER,
      path: '$',
      problem: /must be object/,
    },
    {
      name: 'text that is not YAML',
      text: 'http: [\n',
      path: '$',
      problem: /not valid YAML/,
    },
  ];

  it.each(rejections)('rejects $name with RENDER_INVALID at $path', ({ text, path, problem }) => {
    let error: unknown;
    try {
      validateTraefikConfig(text, 'nodes/vps/traefik.yml');
    } catch (err) {
      error = err;
    }
    expect(error).toMatchObject({ code: 'RENDER_INVALID', data: { where: 'nodes/vps/traefik.yml', path } });
    expect((error as Error).message).toBe(`nodes/vps/traefik.yml: ${path}: ${(error as { data: { problem: string } }).data.problem}`);
    expect((error as { data: { problem: string } }).data.problem).toMatch(problem);
  });
});

describe('the precompiled schema validator', () => {
  const schemaText = readFileSync(packagePath(TRAEFIK_SCHEMA_FILE), 'utf8');
  const precompiled = loadPrecompiled(schemaDigest(schemaText));
  const compiled = new Ajv(AJV_OPTIONS).compile(JSON.parse(schemaText) as object);
  const samples: unknown[] = [
    { http: { routers: { a: { rule: 'Host(`a.example.com`)', service: 's', entryPoints: ['websecure'], tls: { certResolver: 'le' } } }, services: { s: { loadBalancer: { servers: [{ url: 'http://10.0.0.1:80' }] } } } } },
    { http: { routers: { a: { rule: 'Host(`a`)', service: 's', priority: 'high' } } } },
    { http: { services: { s: { loadBalancer: { servers: 'nope' } } } } },
    { tcp: { routers: {} }, bogus: true },
  ];

  it('is built by the build step from this schema text and used instead of compiling', () => {
    expect(precompiled).toBeTypeOf('function');
  });

  it('accepts and rejects exactly what the run-time compiled validator does, with the same errors', () => {
    for (const sample of samples) {
      expect(precompiled!(sample)).toBe(compiled(sample));
      expect(precompiled!.errors ?? null).toEqual(compiled.errors ?? null);
    }
    expect(samples.map((s) => compiled(s))).toEqual([true, false, false, false]);
  });

  it('is not used when the schema changed since it was built', () => {
    expect(loadPrecompiled(schemaDigest(`${schemaText} `))).toBeUndefined();
  });
});
