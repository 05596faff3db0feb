import { describe, expect, it } from 'vitest';
import { coalesceByKey } from '../../src/queues/coalesce.js';

function controllableRun() {
  const started: { value: string; finish: () => void; fail: (error: Error) => void }[] = [];
  const run = (value: string) =>
    new Promise<void>((resolve, reject) => {
      started.push({ value, finish: resolve, fail: reject });
    });
  return { started, run };
}

const key = (value: string) => value.split(':')[0]!;

describe('coalesceByKey', () => {
  it('runs the first call at once and folds calls made meanwhile into one follow-up', async () => {
    const { started, run } = controllableRun();
    const request = coalesceByKey(run, key);
    const first = request('a:1');
    const folded = [request('a:2'), request('a:3'), request('a:4')];
    expect(started.map((call) => call.value)).toEqual(['a:1']);

    started[0]!.finish();
    await first;
    await Promise.resolve();
    // The follow-up carries the latest value and starts only after the running call ended.
    expect(started.map((call) => call.value)).toEqual(['a:1', 'a:4']);
    started[1]!.finish();
    await Promise.all(folded);
  });

  it('keeps keys apart', () => {
    const { started, run } = controllableRun();
    const request = coalesceByKey(run, key);
    void request('a:1');
    void request('b:1');
    expect(started.map((call) => call.value)).toEqual(['a:1', 'b:1']);
  });

  it('starts afresh once a key is idle again', async () => {
    const { started, run } = controllableRun();
    const request = coalesceByKey(run, key);
    const first = request('a:1');
    started[0]!.finish();
    await first;
    await Promise.resolve();
    void request('a:2');
    expect(started.map((call) => call.value)).toEqual(['a:1', 'a:2']);
  });

  it('passes a failure to the callers it answers, and still runs the follow-up', async () => {
    const { started, run } = controllableRun();
    const request = coalesceByKey(run, key);
    const first = request('a:1');
    const folded = request('a:2');
    started[0]!.fail(new Error('redis away'));
    await expect(first).rejects.toThrow('redis away');
    await Promise.resolve();
    expect(started.map((call) => call.value)).toEqual(['a:1', 'a:2']);
    started[1]!.fail(new Error('still away'));
    await expect(folded).rejects.toThrow('still away');
  });
});
