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
    await ackWhenCommitted(ack, commit, 1000);
    expect(seen).toEqual(['committed', 'ack']);
  });

  it('acknowledges a commit that failed, so the person can be told why', async () => {
    const { seen, ack } = recorder();
    const commit = Promise.reject(new Error('Connection is closed.'));
    await ackWhenCommitted(ack, commit, 1000);
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
    await ackWhenCommitted(ack, commit, 50);
    expect(seen).toEqual(['ack']);
    expect(Date.now() - startedAt).toBeGreaterThanOrEqual(45);
    finish();
    await commit;
    expect(seen).toEqual(['ack', 'committed']);
  });
});
