import { describe, expect, it } from 'vitest';
import { parseRegistry } from './parse-registry.js';
import { locations, minimalDocuments, problemsAfter, snapshotOf, type LooseJson } from '../../test/fixtures/registry-kit/registry-kit.js';

type Case = [name: string, mutate: (docs: LooseJson) => void, expected: [string, string][]];

const N = 'registry.json';
const worker = (d: LooseJson) => d[N].worker_nodes[0];

const cases: Case[] = [
  ['registry.json that is an array', (d) => (d[N] = []), [[N, '$']]],
  ['worker_nodes that is an object', (d) => (d[N].worker_nodes = {}), [[N, '$.worker_nodes']]],
  ['a node that is a string', (d) => (d[N].worker_nodes = ['worker']), [[N, '$.worker_nodes[0]']]],
  ['a node that is null', (d) => (d[N].worker_nodes = [null]), [[N, '$.worker_nodes[0]']]],
  ['a node without name', (d) => delete worker(d).name, [[N, '$.worker_nodes[0].name']]],
  ['a node name starting with "-"', (d) => (worker(d).name = '-worker'), [[N, '$.worker_nodes[0].name']]],
  ['a node name starting with "."', (d) => (worker(d).name = '.worker'), [[N, '$.worker_nodes[0].name']]],
  ['a node name ending with "."', (d) => (worker(d).name = 'worker.'), [[N, '$.worker_nodes[0].name']]],
  ['a node name with ".."', (d) => (worker(d).name = 'work..er'), [[N, '$.worker_nodes[0].name']]],
  ['a node name ending in ".lock"', (d) => (worker(d).name = 'worker.lock'), [[N, '$.worker_nodes[0].name']]],
  ['a node name ending in ".LOCK"', (d) => (worker(d).name = 'worker.LOCK'), [[N, '$.worker_nodes[0].name']]],
  ['a node name with "/"', (d) => (worker(d).name = 'nodes/worker'), [[N, '$.worker_nodes[0].name']]],
  ['a node name with "@"', (d) => (worker(d).name = 'worker@{1}'), [[N, '$.worker_nodes[0].name']]],
  ['an empty node name', (d) => (worker(d).name = ''), [[N, '$.worker_nodes[0].name']]],
  ['a node name of 64 characters', (d) => (worker(d).name = 'w'.repeat(64)), [[N, '$.worker_nodes[0].name']]],
  ['a node without ip', (d) => delete worker(d).ip, [[N, '$.worker_nodes[0].ip']]],
  ['a node ip that is a host name', (d) => (worker(d).ip = 'worker.local'), [[N, '$.worker_nodes[0].ip']]],
  ['a VPS ip that is localhost', (d) => (d[N].vps_nodes[0].ip = 'localhost'), [['routing.json', '$.app.vps_nodes[0]'], [N, '$.vps_nodes[0].ip']]],
  ['an ssh node without ssh_user', (d) => delete worker(d).ssh_user, [[N, '$.worker_nodes[0].ssh_user']]],
  ['an ssh_user starting with a digit', (d) => (worker(d).ssh_user = '1ops'), [[N, '$.worker_nodes[0].ssh_user']]],
  ['an ssh_user of 33 characters', (d) => (worker(d).ssh_user = 'o'.repeat(33)), [[N, '$.worker_nodes[0].ssh_user']]],
  ['an ssh_user with "@"', (d) => (worker(d).ssh_user = 'ops@host'), [[N, '$.worker_nodes[0].ssh_user']]],
  ['ssh_port 0', (d) => (worker(d).ssh_port = 0), [[N, '$.worker_nodes[0].ssh_port']]],
  ['ssh_port 65536', (d) => (worker(d).ssh_port = 65536), [[N, '$.worker_nodes[0].ssh_port']]],
  ['ssh_port as a string', (d) => (worker(d).ssh_port = '22'), [[N, '$.worker_nodes[0].ssh_port']]],
  ['sudo as a string', (d) => (worker(d).sudo = 'yes'), [[N, '$.worker_nodes[0].sudo']]],
  ['a relative root', (d) => (worker(d).root = 'srv/worker'), [[N, '$.worker_nodes[0].root']]],
  ['a root with a ".." component', (d) => (worker(d).root = '/srv/../etc'), [[N, '$.worker_nodes[0].root']]],
  ['a root that is a number', (d) => (worker(d).root = 1), [[N, '$.worker_nodes[0].root']]],
  ['an unknown transport', (d) => (worker(d).transport = 'telnet'), [[N, '$.worker_nodes[0].transport']]],
  [
    'a node name used in two roles',
    (d) => d[N].management_laptops.push({ name: 'worker', ip: '100.64.0.7', ssh_user: 'me' }),
    [[N, '$.worker_nodes[0].name']],
  ],
  [
    'a node name used twice in one role',
    (d) => d[N].worker_nodes.push({ name: 'worker', ip: '100.64.0.8', ssh_user: 'ops' }),
    [[N, '$.worker_nodes[1].name']],
  ],
  ['two VPS nodes with one ip', (d) => d[N].vps_nodes.push({ name: 'edge2', ip: '100.64.0.1', ssh_user: 'root' }), [[N, '$.vps_nodes[1].ip']]],
];

describe('registry.json validation', () => {
  it.each(cases)('rejects %s', (_name, mutate, expected) => {
    expect(locations(problemsAfter(mutate))).toEqual(expected);
  });

  it('names the node a duplicate name clashes with', () => {
    const [problem] = problemsAfter((d) => d[N].management_laptops.push({ name: 'worker', ip: '100.64.0.7', ssh_user: 'me' }));
    expect(problem?.message).toBe('"worker" is already the name of $.management_laptops[0]; node names must be unique across all roles');
  });

  it.each(['Vinays-MacBook-Pro', 'worker_01', 'vps.example.net', 'W', 'a'.repeat(63), 'ip-10-0-0-1.ec2.internal'])('accepts the hostname %s as written', (name) => {
    const docs = minimalDocuments();
    docs[N].worker_nodes[0].name = name;
    expect(parseRegistry(snapshotOf(docs)).nodes.find((node) => node.role === 'worker')?.name).toBe(name);
  });

  it('accepts a laptop or worker registered as localhost (node-registry-manager.sh on the control plane itself)', () => {
    const docs = minimalDocuments();
    docs[N].worker_nodes[0].ip = 'localhost';
    expect(parseRegistry(snapshotOf(docs)).nodes.find((node) => node.role === 'worker')?.ip).toBe('localhost');
  });

  it('refuses two names equal but for case, naming both', () => {
    const problems = problemsAfter((d) => d[N].management_laptops.push({ name: 'WORKER', ip: '100.64.0.7', ssh_user: 'me' }));
    expect(locations(problems)).toEqual([[N, '$.worker_nodes[0].name']]);
    expect(problems[0]?.message).toBe(
      '"worker" is ambiguous with "WORKER" ($.management_laptops[0]): node names equal but for case share one store key "worker"; rename one of them',
    );
  });

  it('applies defaults, keeps local nodes without ssh_user, normalizes root and sorts by role then name', () => {
    const docs = minimalDocuments();
    docs[N].management_laptops = [
      { name: 'zed', ip: '127.0.0.1', transport: 'local', root: '/tmp/courier//zed/', webhook_port: 8080, last_sync: null },
      { name: 'amy', ip: '100.64.0.9', ssh_user: 'amy', ssh_port: 2222, sudo: true, root: '/' },
    ];
    docs[N].worker_nodes.push({ name: 'alpha', ip: '100.64.0.3', ssh_user: 'ops', ssh_port: null, sudo: null, repo_path: '' });
    const registry = parseRegistry(snapshotOf(docs));
    expect(registry.nodes).toEqual([
      { name: 'amy', role: 'laptop', ip: '100.64.0.9', sshUser: 'amy', sshPort: 2222, sudo: true, transport: 'ssh' },
      { name: 'zed', role: 'laptop', ip: '127.0.0.1', sshUser: '', sshPort: 22, sudo: false, transport: 'local', root: '/tmp/courier/zed' },
      { name: 'edge', role: 'vps', ip: '100.64.0.1', sshUser: 'root', sshPort: 22, sudo: false, transport: 'ssh' },
      { name: 'alpha', role: 'worker', ip: '100.64.0.3', sshUser: 'ops', sshPort: 22, sudo: false, transport: 'ssh' },
      { name: 'worker', role: 'worker', ip: '100.64.0.2', sshUser: 'ops', sshPort: 22, sudo: false, transport: 'ssh' },
    ]);
  });

  it('accepts a registry.json with only metadata', () => {
    const docs = minimalDocuments();
    docs[N] = { metadata: { version: '1.0', last_updated: '2025-01-01T00:00:00+00:00' } };
    delete docs['routing.json'];
    docs['services.json'].app.public = false;
    expect(parseRegistry(snapshotOf(docs)).nodes).toEqual([]);
  });
});
