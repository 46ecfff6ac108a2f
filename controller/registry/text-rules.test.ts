import { describe, expect, it } from 'vitest';
import { joinPath } from './describe-value.js';
import { problemsAfter, type LooseJson } from '../../test/fixtures/registry-kit/registry-kit.js';

/** Characters that could add a line, a YAML key, a router or a look-alike host if they reached a rendered file. */
const HOSTILE: [label: string, char: string, codePoint: string][] = [
  ['newline', '\n', 'U+000A'],
  ['carriage return', '\r', 'U+000D'],
  ['tab', '\t', 'U+0009'],
  ['backtick', '`', 'U+0060'],
  ['single quote', "'", 'U+0027'],
  ['double quote', '"', 'U+0022'],
  ['hash', '#', 'U+0023'],
  ['colon', ':', 'U+003A'],
  ['open brace', '{', 'U+007B'],
  ['close brace', '}', 'U+007D'],
  ['space', ' ', 'U+0020'],
  ['Cyrillic a', '\u0430', 'U+0430'],
  ['fullwidth full stop', '\uff0e', 'U+FF0E'],
  ['zero-width space', '\u200b', 'U+200B'],
];

/** Where a hostile string can be put: how to put it there, and the document and path that must reject it. */
const FIELDS: [field: string, put: (d: LooseJson, text: string) => void, document: string, path: (text: string) => string][] = [
  ['a service name', (d, t) => (d['services.json'][`db${t}x`] = { subdomain: 'other' }), 'services.json', (t) => joinPath('$', `db${t}x`)],
  ['a subdomain', (d, t) => (d['services.json'].db.subdomain = `db${t}x`), 'services.json', () => '$.db.subdomain'],
  ['a service ip', (d, t) => (d['services.json'].db.ip = `10.0.0.2${t}`), 'services.json', () => '$.db.ip'],
  ['a namespace', (d, t) => (d['services.json'].db.namespace = `data${t}x`), 'services.json', () => '$.db.namespace'],
  ['a domain', (d, t) => (d['domains.json'].domains[`ex${t}ample.org`] = {}), 'domains.json', (t) => joinPath('$.domains', `ex${t}ample.org`)],
  ['a VPS public_ip', (d, t) => (d['domains.json'].vps_nodes[0].public_ip = `203.0.113.1${t}`), 'domains.json', () => '$.vps_nodes[0].public_ip'],
  ['a VPS location', (d, t) => (d['domains.json'].vps_nodes[0].location = `us${t}east`), 'domains.json', () => '$.vps_nodes[0].location'],
  ['a routing domain', (d, t) => d['routing.json'].app.domains.push(`ex${t}ample.com`), 'routing.json', () => '$.app.domains[1]'],
  ['a node name', (d, t) => (d['registry.json'].worker_nodes[0].name = `worker${t}1`), 'registry.json', () => '$.worker_nodes[0].name'],
  ['a node ip', (d, t) => (d['registry.json'].worker_nodes[0].ip = `100.64.0.2${t}`), 'registry.json', () => '$.worker_nodes[0].ip'],
  ['an ssh_user', (d, t) => (d['registry.json'].worker_nodes[0].ssh_user = `ops${t}x`), 'registry.json', () => '$.worker_nodes[0].ssh_user'],
  ['a root path', (d, t) => (d['registry.json'].worker_nodes[0].root = `/srv/w${t}x`), 'registry.json', () => '$.worker_nodes[0].root'],
  ['the cluster domain', (d, t) => (d['cluster-domain'] = `my${t}cloud`), 'cluster-domain', () => '$'],
];

const cases = FIELDS.flatMap(([field, put, document, path]) =>
  HOSTILE.map(([label, char, codePoint]) => ({ title: `${field} containing a ${label}`, put, char, document, path: path(char), codePoint })),
);

describe('hostile registry strings', () => {
  it.each(cases)('rejects $title, naming the character', ({ put, char, document, path, codePoint }) => {
    const problems = problemsAfter((d) => put(d, char));
    expect(problems.map((p) => [p.document, p.path])).toEqual([[document, path]]);
    expect(problems[0]?.message).toContain(codePoint);
  });

  it('shows the bad value escaped, so the message stays one line per problem', () => {
    const [problem] = problemsAfter((d) => (d['services.json'].db.subdomain = 'db\nevil: {}'));
    expect(problem?.message).toBe(
      '"db\\nevil: {}" contains U+000A (newline), which is not allowed in a subdomain ' +
        '(a DNS label: a-z, 0-9 and "-", 1-63 characters, not starting or ending with "-"; or "@" or "" for the bare domain)',
    );
    const [lookalike] = problemsAfter((d) => (d['domains.json'].domains['ex\u0430mple.org'] = {}));
    expect(lookalike?.path).toBe('$.domains["ex\\u0430mple.org"]');
    expect(lookalike?.message).toMatch(/^"ex\\u0430mple\.org" contains U\+0430 \(non-ASCII/);
  });

  it('truncates long bad values', () => {
    const [problem] = problemsAfter((d) => (d['services.json'].db.subdomain = `${'x'.repeat(500)}\n`));
    expect(problem?.message).toMatch(/^"x{40}"\.\.\. \(501 characters\) contains U\+000A/);
  });
});
