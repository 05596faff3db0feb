import { describe, expect, it } from 'vitest';
import { renderHome, waitingOn } from '../../src/views/home.js';
import { blockKitViolations } from './block-kit-limits.js';
import { HOSTILE_MARKUP, makeRelease, STARTER, T0 } from './factories.js';

describe('renderHome', () => {
  it('lists what waits on the person, within Slack’s limits, with nothing unescaped', () => {
    const releases = Array.from({ length: 30 }, (_unused, index) =>
      makeRelease({ id: `r${index + 1}`, version: `v${index}.0 <!channel>` }),
    );
    const view = renderHome({
      userId: STARTER,
      active: releases,
      recent: [],
      permalinks: new Map(),
      holders: () => undefined,
      statsBlocks: [],
      now: T0,
    });
    expect(blockKitViolations({ text: 'home', blocks: view.blocks })).toEqual([]);
    const text = JSON.stringify(view.blocks);
    expect(text).toContain('…and');
    for (const markup of HOSTILE_MARKUP) expect(text).not.toContain(markup);
  });

  it('says when nothing waits, and gives role items to their holders', () => {
    const release = makeRelease();
    expect(
      waitingOn({ userId: 'U0NOBODY', active: [release], permalinks: new Map(), holders: () => undefined }),
    ).toEqual([]);
    const view = renderHome({
      userId: 'U0NOBODY',
      active: [],
      recent: [],
      permalinks: new Map(),
      holders: () => undefined,
      statsBlocks: [],
      now: T0,
    });
    expect(JSON.stringify(view.blocks)).toContain('Nothing is waiting on you.');
  });
});
