import { describe, expect, it } from 'vitest';
import {
  renderFinalLogShared,
  renderLogSuperseded,
  renderRetroLogShared,
} from '../../src/views/log-messages.js';
import { blockKitViolations } from './block-kit-limits.js';
import { complete, makeRelease, T0 } from './factories.js';

// The messages that introduce each version of the deployment log in the thread.

const release = complete({ ...makeRelease(), version: 'v<!here>' });
const PERMALINK = 'https://example.slack.com/archives/C0DEPLOY/p1700000000000200?thread_ts=1700000000.000100';

describe('the deployment log messages', () => {
  it('introduce the final log and a version with the retrospective, escaping the version', () => {
    const final = renderFinalLogShared(release);
    const updated = renderRetroLogShared(release, { by: 'U0OPS', at: T0 });
    for (const message of [final, updated]) {
      expect(blockKitViolations(message)).toEqual([]);
      expect(JSON.stringify(message)).not.toContain('<!here>');
      expect(JSON.stringify(message)).toContain('v&lt;!here&gt;');
    }
    expect(final.text).toContain('the release has ended');
    expect(updated.text).toContain('updated with the retrospective <@U0OPS> saved');
  });

  it('mark an earlier version superseded with a link to the newer one', () => {
    const superseded = renderLogSuperseded(release, PERMALINK);
    expect(blockKitViolations(superseded)).toEqual([]);
    expect(superseded.text).toMatch(/^Superseded/);
    expect(JSON.stringify(superseded.blocks)).toContain(`<${PERMALINK}|the newer version>`);
  });
});
