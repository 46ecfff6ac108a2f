import { describe, expect, it } from 'vitest';
import { createRenderQueue } from './render-queue.js';

describe('createRenderQueue', () => {
  it('runs one render at a time; triggers that arrive meanwhile share the next, each named once', async () => {
    const calls: string[] = [];
    let release!: () => void;
    const first = new Promise<void>((r) => (release = r));
    const queue = createRenderQueue(async (trigger) => {
      calls.push(trigger);
      if (calls.length === 1) await first;
      return [trigger];
    });
    const a = queue.refresh('a');
    while (calls.length === 0) await new Promise((r) => setTimeout(r, 1));
    // 'a' is rendering: the next three share one render
    const b = queue.refresh('b');
    const c = queue.refresh('c');
    const b2 = queue.refresh('b');
    release();
    expect(await a).toEqual(['a']);
    expect(await b).toEqual(['b; c']);
    expect(await c).toBe(await b2);
    expect(calls).toEqual(['a', 'b; c']);
  });

  it('runs exclusive work after the renders started before it, and survives a failed render', async () => {
    const order: string[] = [];
    const queue = createRenderQueue(async (trigger) => {
      order.push(`render ${trigger}`);
      if (trigger === 'bad') throw new Error('bad registry');
      return [];
    });
    const failed = queue.refresh('bad');
    while (order.length === 0) await new Promise((r) => setTimeout(r, 1));
    const task = queue.exclusive(async () => void order.push('task'));
    const after = queue.refresh('after');
    await expect(failed).rejects.toThrow('bad registry');
    await task;
    await after;
    expect(order).toEqual(['render bad', 'task', 'render after']);
  });
});
