import { describe, expect, it } from 'vitest';
import { forgetUnackedEnvelopes, type RequestTiming } from '../../src/slack/app.js';

// Socket Mode ack timings are kept per envelope until its ack goes out; an envelope that is never acked
// must not stay in memory for ever.

const timings = (count: number, receivedAt: number) =>
  new Map<string, RequestTiming>(
    Array.from({ length: count }, (_unused, index) => [
      `env-${receivedAt}-${index}`,
      { kind: 'interactive', receivedAt },
    ]),
  );

describe('forgetUnackedEnvelopes', () => {
  it('leaves a small map alone, however old its entries', () => {
    const map = timings(999, 0);
    forgetUnackedEnvelopes(map, 10 * 60_000);
    expect(map.size).toBe(999);
  });

  it('drops the envelopes older than a minute once the map is large, and keeps the recent ones', () => {
    const now = 10 * 60_000;
    const map = new Map([...timings(900, now - 61_000), ...timings(200, now - 1_000)]);
    forgetUnackedEnvelopes(map, now);
    expect(map.size).toBe(200);
    expect([...map.values()].every((timing) => timing.receivedAt === now - 1_000)).toBe(true);
  });
});
