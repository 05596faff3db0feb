import { describe, expect, it } from 'vitest';
import { archiveLocationOf, toSafeSegment } from '../../src/domain/archive-location.js';
import { archiveFailureReasonOf } from '../../src/store/log-archive.js';

describe('toSafeSegment', () => {
  it.each([
    ['v2.3', 'v2.3'],
    ['release-42', 'release-42'],
    ['..', '_'],
    ['...', '_'],
    ['', '_'],
    ['../../../../escaped', '_._._._escaped'],
    ['a/../../b', 'a_._._b'],
    ['..\\..\\win', '_._win'],
    ['/etc/passwd', '_etc_passwd'],
    ['.hidden', 'hidden'],
    ['-rf', 'rf'],
    ['ｖ２．３', 'v2.3'],
    ['nul\u0000byte', 'nul_byte'],
  ])('turns %j into %j', (text, expected) => {
    expect(toSafeSegment(text)).toBe(expected);
  });

  it('never gives a separator, a parent folder or more than its length', () => {
    for (const text of ['../'.repeat(40), `${'x'.repeat(100)}/..`, 'a\\b/c:d*e?f"g<h>i|j']) {
      const segment = toSafeSegment(text, 20);
      expect(segment).toMatch(/^[A-Za-z0-9_][A-Za-z0-9._-]{0,19}$/);
      expect(segment).not.toMatch(/\.\./);
    }
  });
});

describe('archiveLocationOf', () => {
  it('files a release under its workspace and the UTC year it ended', () => {
    expect(
      archiveLocationOf({
        teamId: 'T0ACME',
        id: 'r12',
        version: 'v2.3',
        env: 'production',
        startedAt: Date.UTC(2025, 11, 30),
        finishedAt: Date.UTC(2026, 0, 1, 0, 30),
      }),
    ).toEqual({ folders: ['T0ACME', '2026'], stem: 'r12-v2.3-production' });
  });
});

describe('archiveFailureReasonOf', () => {
  it.each([
    ['EACCES', 'permission'],
    ['EPERM', 'permission'],
    ['EROFS', 'read_only'],
    ['ENOSPC', 'disk_full'],
    ['EDQUOT', 'disk_full'],
    ['ENOENT', 'missing_folder'],
    ['ENOTDIR', 'missing_folder'],
    ['EIO', 'io_error'],
    [undefined, 'io_error'],
  ])('names %s as %s', (code, reason) => {
    expect(archiveFailureReasonOf(code)).toBe(reason);
  });
});
