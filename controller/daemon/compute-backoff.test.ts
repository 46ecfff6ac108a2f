import { describe, expect, it } from 'vitest';
import { computeBackoff } from './compute-backoff.js';

describe('computeBackoff', () => {
  it('doubles with each consecutive failure', () => {
    const d = [1, 2, 3, 4].map((f) => computeBackoff(f, { baseMs: 1000, capMs: 1e9, random: 0.5 }));
    expect(d).toEqual([1000, 2000, 4000, 8000]);
  });

  it('spreads retries by ±50% jitter', () => {
    expect(computeBackoff(2, { baseMs: 1000, capMs: 1e9, random: 0 })).toBe(1000);
    expect(computeBackoff(2, { baseMs: 1000, capMs: 1e9, random: 0.999 })).toBe(2998);
  });

  it('never waits longer than the cap (the reconcile interval)', () => {
    expect(computeBackoff(40, { baseMs: 5000, capMs: 3_600_000, random: 0.9 })).toBe(3_600_000);
  });
});
