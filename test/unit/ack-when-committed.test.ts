import { describe, expect, it } from 'vitest';
import { ackWhenCommitted } from '../../src/slack/guard.js';

// When a request is acknowledged: once its commit has settled, or once the budget has passed.

function recorder() {
  const seen: string[] = [];
  return { seen, ack: async () => void seen.push('ack') };
}

describe('ackWhenCommitted', () => {
  it('acknowledges after the commit, not before', async () => {
    const { seen, ack } = recorder();
    const commit = new Promise<void>((resolve) => setTimeout(() => resolve(void seen.push('committed')), 20));
    const took: number[] = [];
    await ackWhenCommitted(ack, commit, { budgetMs: 1000, observe: (seconds) => took.push(seconds) });
    expect(seen).toEqual(['committed', 'ack']);
    expect(took).toHaveLength(1);
    expect(took[0]).toBeGreaterThanOrEqual(0.015);
    expect(took[0]).toBeLessThan(1);
  });

  it('acknowledges a commit that failed, so the person can be told why', async () => {
    const { seen, ack } = recorder();
    const commit = Promise.reject(new Error('Connection is closed.'));
    await ackWhenCommitted(ack, commit, { budgetMs: 1000 });
    expect(seen).toEqual(['ack']);
    await expect(commit).rejects.toThrow('Connection is closed.');
  });

  it('acknowledges once the budget has passed when the commit is slower', async () => {
    const { seen, ack } = recorder();
    let finish: () => void = () => undefined;
    const commit = new Promise<void>((resolve) => {
      finish = () => resolve(void seen.push('committed'));
    });
    const startedAt = Date.now();
    const took: number[] = [];
    await ackWhenCommitted(ack, commit, { budgetMs: 50, observe: (seconds) => took.push(seconds) });
    expect(seen).toEqual(['ack']);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(45);
    finish();
    await commit;
    await Promise.resolve();
    expect(seen).toEqual(['ack', 'committed']);
    // The slow commit is still measured, for the metric that shows Redis being slow.
    expect(took[0]).toBeGreaterThanOrEqual(0.045);
  });
});
