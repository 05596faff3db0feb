import type { AuditEvent } from './audit.js';
import {
  type CriterionDirection,
  type CriterionUnit,
  describeThreshold,
  formatAmount,
  successCriteriaOf,
  type TemplateCriterion,
} from './criteria.js';
import type { Release } from './release.js';
import type { Template } from './template.js';

// What a release showed against its template's success criteria: values people observed and recorded
// at post-deploy check-ins, and the verdict on each. A value is written in the criterion's own unit, so
// the verdict compares it with the threshold as it is.

/** A value recorded at a check-in: the latest recording for its criterion there replaces earlier ones. */
export interface Observation {
  value: number;
  by: string;
  at: number;
  /**
   * For a value measured against a baseline: the threshold it was judged by (factor × the reading at
   * the deploy) in place of the template's. A person's recording has none.
   */
  threshold?: number;
}

/** An observation with the check-in it was recorded at. */
export interface RecordedObservation extends Observation {
  checkinIndex: number;
}

/** A criterion that can be judged: it has a direction and a threshold (every success criterion has). */
export type MeasurableCriterion = TemplateCriterion & { direction: CriterionDirection; threshold: number };

export type CriterionVerdict = 'met' | 'missed' | 'not_recorded';

export const CRITERION_VERDICTS: readonly CriterionVerdict[] = ['met', 'missed', 'not_recorded'];

/** Largest magnitude a recorded value may have; larger ones are typing mistakes. */
export const MAX_OBSERVED_MAGNITUDE = 1_000_000_000;

function isMeasurable(criterion: TemplateCriterion): criterion is MeasurableCriterion {
  return criterion.direction !== undefined && criterion.threshold !== undefined;
}

/** The template's success criteria that a value can be judged against, in the template's order. */
export function measurableCriteria(template: Template): MeasurableCriterion[] {
  return successCriteriaOf(template).filter(isMeasurable);
}

/** Whether `value` lies on the good side of the threshold; "below" and "above" exclude the threshold. */
export function isMet(
  criterion: Pick<MeasurableCriterion, 'direction' | 'threshold'>,
  value: number,
): boolean {
  const { direction, threshold } = criterion;
  switch (direction) {
    case 'below':
      return value < threshold;
    case 'above':
      return value > threshold;
    case 'at most':
      return value <= threshold;
    case 'at least':
      return value >= threshold;
    default: {
      const unknown: never = direction;
      throw new Error(`unknown direction ${String(unknown)}`);
    }
  }
}

export function judgeCriterion(
  criterion: Pick<MeasurableCriterion, 'direction' | 'threshold'>,
  value: number | undefined,
): CriterionVerdict {
  if (value === undefined) return 'not_recorded';
  return isMet(criterion, value) ? 'met' : 'missed';
}

/** Why `value` cannot be a reading in the criterion's unit, as a plain sentence; undefined when it can. */
export function observedValueProblem(unit: CriterionUnit | undefined, value: number): string | undefined {
  if (!Number.isFinite(value) || Math.abs(value) > MAX_OBSERVED_MAGNITUDE) return 'Write a smaller number.';
  switch (unit) {
    case 'count':
      return Number.isInteger(value) && value >= 0 ? undefined : 'Write a whole number, 0 or more.';
    case '/10':
      return value >= 0 && value <= 10 ? undefined : 'Write a score from 0 to 10.';
    case 'ms':
    case 's':
    case 'min':
    case 'h':
      return value >= 0 ? undefined : 'A duration cannot be negative.';
    case '%':
      // A change against a baseline may be negative, but nothing falls by more than all of it.
      return value >= -100 ? undefined : 'A percentage cannot be below -100.';
    case undefined:
      return undefined;
    default: {
      const unknown: never = unit;
      return `Unknown unit ${String(unknown)}.`;
    }
  }
}

export type ParsedObservedValue = { ok: true; value: number } | { ok: false; problem: string };

const NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)$/;

/**
 * A value as people type it: "12.5", "-3", and the criterion's unit may follow ("12 %", "250ms",
 * "8/10"). Problems are plain sentences without markup.
 */
export function parseObservedValue(text: string, unit: CriterionUnit | undefined): ParsedObservedValue {
  let number = text.trim();
  if (unit !== undefined && unit !== 'count' && number.endsWith(unit))
    number = number.slice(0, -unit.length).trim();
  if (!NUMBER.test(number)) return { ok: false, problem: 'Write a number, like 12.5.' };
  const value = Number(number);
  const problem = observedValueProblem(unit, value);
  return problem ? { ok: false, problem } : { ok: true, value: Object.is(value, -0) ? 0 : value };
}

/** A value for people, in its unit: "0.4 %", "8/10", "3". */
export function formatObservedValue(value: number, unit: CriterionUnit | undefined): string {
  return formatAmount(value, unit);
}

/** What was recorded for a criterion at one check-in. */
export function observationAt(
  release: Release,
  checkinIndex: number,
  criterionId: string,
): RecordedObservation | undefined {
  const observation = release.checkins[checkinIndex]?.observed?.[criterionId];
  return observation ? { ...observation, checkinIndex } : undefined;
}

/** The latest value recorded for a criterion across the release's check-ins (ties: the later check-in). */
export function latestObservation(release: Release, criterionId: string): RecordedObservation | undefined {
  let latest: RecordedObservation | undefined;
  for (const checkin of release.checkins) {
    const observation = checkin.observed?.[criterionId];
    if (observation && (!latest || observation.at >= latest.at))
      latest = { ...observation, checkinIndex: checkin.index };
  }
  return latest;
}

export interface CriterionReport {
  id: string;
  name: string;
  unit?: CriterionUnit;
  direction: CriterionDirection;
  threshold: number;
  /** The target in words: "less than 10 %". */
  target: string;
  verdict: CriterionVerdict;
  observed?: RecordedObservation;
}

/**
 * Each measurable success criterion of the release's template with its verdict: on the values of one
 * check-in when `checkinIndex` is given, else on the latest value recorded across check-ins. A release
 * whose template sets no criteria (one stored before they existed) has none.
 */
export function reportCriteria(release: Release, checkinIndex?: number): CriterionReport[] {
  return measurableCriteria(release.template).map((criterion) => {
    const observed =
      checkinIndex === undefined
        ? latestObservation(release, criterion.id)
        : observationAt(release, checkinIndex, criterion.id);
    const report: CriterionReport = {
      id: criterion.id,
      name: criterion.name,
      direction: criterion.direction,
      threshold: criterion.threshold,
      // A measured value judged against a baseline names the threshold it was judged by.
      target:
        describeThreshold(
          observed?.threshold === undefined ? criterion : { ...criterion, threshold: observed.threshold },
        ) ?? '',
      verdict: judgeCriterion(
        observed?.threshold === undefined ? criterion : { ...criterion, threshold: observed.threshold },
        observed?.value,
      ),
    };
    if (criterion.unit !== undefined) report.unit = criterion.unit;
    if (observed) report.observed = observed;
    return report;
  });
}

/** A value as a criterion_recorded event holds it ("12.5", or "none"), in words and in its unit. */
function recordedValueWords(text: string, unit: CriterionUnit | undefined): string {
  const value = Number(text);
  return text === 'none' || text === '' || !Number.isFinite(value)
    ? 'none'
    : formatObservedValue(value, unit);
}

/**
 * A criterion_recorded event in plain words: the criterion's name (its id when the template no longer
 * has it) and the values before and after ("none" when there was or is none).
 */
export function describeRecording(
  template: Template,
  event: Pick<AuditEvent, 'criterionId' | 'from' | 'to'>,
): { criterion: string; from: string; to: string } {
  const criterion = successCriteriaOf(template).find((candidate) => candidate.id === event.criterionId);
  return {
    criterion: criterion?.name ?? event.criterionId ?? 'an unknown criterion',
    from: recordedValueWords(event.from, criterion?.unit),
    to: recordedValueWords(event.to, criterion?.unit),
  };
}
