import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CourierError, ERROR_CODES, isCourierError } from './errors.js';
import { packagePath } from './package-root.js';

describe('error codes', () => {
  it('are documented in the README table with their exit status, in step with ERROR_CODES', () => {
    const readme = readFileSync(packagePath('README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Error codes'));
    const rows = [...section.matchAll(/^\| `([A-Z_]+)` \| (\d) \| (yes|no) \|/gm)].map((m) => [m[1], Number(m[2]), m[3] === 'yes']);
    const expected = Object.entries(ERROR_CODES).map(([code, e]) => [code, e.exit, e.retryable]);
    expect(rows).toEqual(expected);
  });

  it('carry code, data, cause and retryability', () => {
    const cause = new Error('ECONNREFUSED');
    const err = new CourierError('NODE_UNREACHABLE', 'edge-1: connection refused', { node: 'edge-1' }, { cause });
    expect(err).toMatchObject({ code: 'NODE_UNREACHABLE', data: { node: 'edge-1' }, retryable: true, exitCode: 1 });
    expect(err.cause).toBe(cause);
    expect(isCourierError(err, 'NODE_UNREACHABLE')).toBe(true);
    expect(isCourierError(err, 'LOCKED')).toBe(false);
    expect(JSON.parse(JSON.stringify(err))).toEqual({ code: 'NODE_UNREACHABLE', message: 'edge-1: connection refused', data: { node: 'edge-1' } });
  });

  it('let a caller override retryability', () => {
    expect(new CourierError('AGENT_PROTOCOL', 'x', {}, { retryable: true }).retryable).toBe(true);
  });
});
