import { describe, expect, it } from 'vitest';
import {
  decodeGateOverrideMetadata,
  decodeItemActionId,
  decodeReleaseValue,
  encodeGateOverrideMetadata,
  encodeItemActionId,
  encodeReleaseValue,
  ITEM_ACTION_PATTERN,
  isItemBlockId,
  itemBlockId,
} from '../../src/views/ids.js';

describe('item action ids', () => {
  it.each([
    ['r1', 'a'],
    ['r42', 'deploy-plan-approved'],
    ['r999999999999', `a${'-'.repeat(47)}`],
    ['r7', '0-start-with-digit'],
  ])('round-trips release %s and item %s', (releaseId, itemId) => {
    const actionId = encodeItemActionId(releaseId, itemId);

    expect(actionId).toBe(`item.set|${releaseId}|${itemId}`);
    expect(ITEM_ACTION_PATTERN.test(actionId)).toBe(true);
    expect(decodeItemActionId(actionId)).toEqual({ releaseId, itemId });
  });

  it.each([
    ['an extra |', 'item.set|r1|a|b'],
    ['a trailing |', 'item.set|r1|a|'],
    ['a missing item id', 'item.set|r1'],
    ['an empty item id', 'item.set|r1|'],
    ['another route', 'item.toggle|r1|a'],
    ['no route', '|r1|a'],
    ['a release id without the r', 'item.set|42|a'],
    ['an uppercase R', 'item.set|R42|a'],
    ['a release id with letters', 'item.set|r4x|a'],
    ['a bare r', 'item.set|r|a'],
    ['a 13-digit release id', 'item.set|r1234567890123|a'],
    ['a release id with a space', 'item.set|r1 |a'],
    ['an uppercase item id', 'item.set|r1|Deploy'],
    ['an item id with :', 'item.set|r1|a:b'],
    ['an item id with <', 'item.set|r1|<a>'],
    ['an item id starting with -', 'item.set|r1|-a'],
    ['an item id with a space', 'item.set|r1|a b'],
    ['an item id of 49 characters', `item.set|r1|${'a'.repeat(49)}`],
    ['an empty string', ''],
  ])('rejects %s', (_name, actionId) => {
    expect(decodeItemActionId(actionId)).toBeUndefined();
  });

  it.each([undefined, null, 42, {}, ['item.set', 'r1', 'a']])('rejects a non-string: %j', (actionId) => {
    expect(decodeItemActionId(actionId)).toBeUndefined();
  });

  it('is not matched by other action ids', () => {
    expect(ITEM_ACTION_PATTERN.test('gate.override.open')).toBe(false);
    expect(ITEM_ACTION_PATTERN.test('x.item.set|r1|a')).toBe(false);
  });
});

describe('release values', () => {
  it('round-trips a release id', () => {
    expect(decodeReleaseValue(encodeReleaseValue('r123'))).toBe('r123');
  });

  it.each(['', 'r', 'R1', 'r1 ', ' r1', 'r1|r2', 'r-1', 'x1', 'r1234567890123'])('rejects %j', (value) => {
    expect(decodeReleaseValue(value)).toBeUndefined();
  });

  it.each([undefined, null, 1, { releaseId: 'r1' }])('rejects a non-string: %j', (value) => {
    expect(decodeReleaseValue(value)).toBeUndefined();
  });
});

describe('gate override modal metadata', () => {
  it('round-trips team and release', () => {
    const metadata = { teamId: 'T0TEAM', releaseId: 'r42' };

    expect(decodeGateOverrideMetadata(encodeGateOverrideMetadata(metadata))).toEqual(metadata);
  });

  it('drops keys it does not know', () => {
    const text = JSON.stringify({ teamId: 'T1', releaseId: 'r1', admin: true });

    expect(decodeGateOverrideMetadata(text)).toEqual({ teamId: 'T1', releaseId: 'r1' });
  });

  it.each([
    ['not JSON', '{teamId: T1}'],
    ['JSON null', 'null'],
    ['a JSON string', '"r1"'],
    ['a JSON array', '["T1","r1"]'],
    ['no team', JSON.stringify({ releaseId: 'r1' })],
    ['an empty team', JSON.stringify({ teamId: '', releaseId: 'r1' })],
    ['a team id over 20 characters', JSON.stringify({ teamId: 'T'.repeat(21), releaseId: 'r1' })],
    ['a numeric team id', JSON.stringify({ teamId: 1, releaseId: 'r1' })],
    ['no release', JSON.stringify({ teamId: 'T1' })],
    ['a forged release id', JSON.stringify({ teamId: 'T1', releaseId: 'r1|item.set' })],
    ['an empty string', ''],
  ])('rejects %s', (_name, text) => {
    expect(decodeGateOverrideMetadata(text)).toBeUndefined();
  });

  it.each([undefined, null, 7, { teamId: 'T1', releaseId: 'r1' }])('rejects a non-string: %j', (text) => {
    expect(decodeGateOverrideMetadata(text)).toBeUndefined();
  });
});

describe('item block ids', () => {
  it('names the item', () => {
    expect(itemBlockId('backup-taken')).toBe('item:backup-taken');
  });

  it('recognises item block ids, with or without a fingerprint appended, and nothing else', () => {
    expect(isItemBlockId(itemBlockId('a'))).toBe(true);
    expect(isItemBlockId(`${itemBlockId('a')}:0abc123`)).toBe(true);
    expect(isItemBlockId('release-actions')).toBe(false);
    expect(isItemBlockId('phase')).toBe(false);
    expect(isItemBlockId('items:a')).toBe(false);
  });
});
