import type { TemplateItem } from './template.js';

// Items that record a value when they are ticked: a backup id, a test run, a commit SHA, the migrations
// that ran. The template says what kind of value and how to check it; whoever ticks such an item gives
// the value with the tick, from whichever front door, and it is checked here, against the template.

export const RECORD_KINDS = ['text', 'number', 'url'] as const;
export type RecordKind = (typeof RECORD_KINDS)[number];

export interface ItemRecord {
  kind: RecordKind;
  /** What the value is, as people call it: "Backup id", "Commit SHA". */
  label: string;
  /** A regular expression the whole value must match (text values only). */
  pattern?: string;
  /** A value of the right form, shown as the input's placeholder and in the error when one is wrong. */
  example?: string;
  /** The item may be ticked without a value; by default a tick needs one. */
  optional?: boolean;
}

/** Longest value kept: a list of migrations fits, a log excerpt does not. */
export const RECORDED_VALUE_MAX_LENGTH = 500;

export type ValueCheck = { ok: true; value: string | undefined } | { ok: false; problem: string };

/** Whether a tick of this item must carry a value. */
export function needsValue(item: Pick<TemplateItem, 'record'>): boolean {
  return item.record !== undefined && item.record.optional !== true;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d+)?|\.\d+)$/;
// Line breaks, tabs and other control characters: a value is one line, shown inline everywhere.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u001f\u007f]/;

/** The pattern as a regular expression over the whole value; undefined when it does not compile. */
export function compilePattern(pattern: string): RegExp | undefined {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u');
  } catch {
    return undefined;
  }
}

function isWebUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/**
 * Checks a value given with a tick against what the item records. Surrounding space is dropped; an
 * empty value is no value, accepted only where the value is optional. A problem is one plain sentence
 * addressed to the person who typed the value.
 */
export function checkRecordedValue(record: ItemRecord, raw: string): ValueCheck {
  const value = raw.trim();
  if (value === '') {
    return record.optional
      ? { ok: true, value: undefined }
      : { ok: false, problem: `${record.label} is needed to tick this item.` };
  }
  if (value.length > RECORDED_VALUE_MAX_LENGTH) {
    return { ok: false, problem: `Keep it under ${RECORDED_VALUE_MAX_LENGTH} characters.` };
  }
  if (CONTROL.test(value)) return { ok: false, problem: 'Write it on one line.' };
  const like = record.example ? `, like ${record.example}` : '';
  switch (record.kind) {
    case 'number':
      if (!NUMBER.test(value)) return { ok: false, problem: `Enter a number${like || ', like 42 or 3.5'}.` };
      break;
    case 'url':
      if (!isWebUrl(value)) return { ok: false, problem: `Enter a link that starts with https://${like}.` };
      break;
    case 'text':
      break;
    default: {
      const unknown: never = record.kind;
      return { ok: false, problem: `Unknown kind ${String(unknown)}.` };
    }
  }
  if (record.pattern !== undefined) {
    const expression = compilePattern(record.pattern);
    if (expression && !expression.test(value)) {
      return {
        ok: false,
        problem: record.example
          ? `That does not look like a ${record.label}: write it like ${record.example}.`
          : `That does not look like a ${record.label}: it must match ${record.pattern}.`,
      };
    }
  }
  return { ok: true, value };
}

/** A recorded value as data: numbers as numbers, the rest as written. */
export function typedValue(record: Pick<ItemRecord, 'kind'> | undefined, value: string): string | number {
  if (record?.kind !== 'number') return value;
  const number = Number(value);
  return Number.isFinite(number) ? number : value;
}
