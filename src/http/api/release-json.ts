import type { z } from 'zod';
import type { GateBlocker as Blocker, GateAnswer } from '../../domain/gate.js';
import { describePerson, type ReleasePeople } from '../../domain/people.js';
import { computeProgress, type ItemState, phaseState, type Release } from '../../domain/release.js';
import type { TemplateItem } from '../../domain/template.js';
import type { GateBlocker, GateView, ItemView, ReleaseView } from './schemas.js';

// A release as the pipeline API shows it: plain JSON, times in ISO 8601, people with their names.

const iso = (ms: number) => new Date(ms).toISOString();

export function blockerJson(blocker: Blocker): z.infer<typeof GateBlocker> {
  return {
    kind: blocker.kind,
    detail: blocker.detail,
    ...(blocker.phase ? { phase: blocker.phase } : {}),
    ...(blocker.openItems ? { openItems: blocker.openItems } : {}),
    ...(blocker.until !== undefined ? { until: iso(blocker.until) } : {}),
    ...(blocker.holder ? { holder: blocker.holder } : {}),
  };
}

export function gateJson(release: Release, answer: GateAnswer): z.infer<typeof GateView> {
  return {
    allowed: answer.allowed,
    final: answer.final,
    blockers: answer.blockers.map(blockerJson),
    release: { id: release.id, version: release.version, env: release.env, status: release.status },
  };
}

export function itemJson(
  item: TemplateItem,
  state: ItemState | undefined,
  people: ReleasePeople,
): z.infer<typeof ItemView> {
  return {
    id: item.id,
    text: item.text,
    required: item.required,
    pipeline: item.pipeline === true,
    done: state?.done === true,
    ...(state ? { by: state.by, byName: describePerson(people, state.by), at: iso(state.at) } : {}),
    ...(state?.value !== undefined ? { value: state.value } : {}),
    ...(state?.evidenceUrl ? { evidenceUrl: state.evidenceUrl } : {}),
    ...(state?.summary ? { summary: state.summary } : {}),
  };
}

export function releaseJson(
  release: Release,
  gate: GateAnswer,
  people: ReleasePeople,
  permalink: string | undefined,
): z.infer<typeof ReleaseView> {
  const progress = computeProgress(release);
  return {
    id: release.id,
    version: release.version,
    env: release.env,
    template: release.template.id,
    status: release.status,
    startedBy: release.startedBy,
    startedAt: iso(release.startedAt),
    ...(release.window ? { window: { at: iso(release.window.at), zone: release.window.zone } } : {}),
    ...(release.source?.commit ? { commit: release.source.commit } : {}),
    ...(release.source?.runUrl ? { runUrl: release.source.runUrl } : {}),
    ...(release.deployment ? { deployedAt: iso(release.deployment.at) } : {}),
    ...(release.finishedAt !== undefined ? { finishedAt: iso(release.finishedAt) } : {}),
    ...(release.go ? { go: { by: release.go.by, at: iso(release.go.at) } } : {}),
    ...(release.redFlag
      ? {
          redFlag: {
            number: release.redFlag.number,
            condition: release.redFlag.condition,
            note: release.redFlag.note,
          },
        }
      : {}),
    progress: { requiredDone: progress.requiredDone, requiredTotal: progress.requiredTotal },
    phases: release.template.phases.map((phase, index) => ({
      id: phase.id,
      name: phase.name,
      state: phaseState(release, index),
      deployment: phase.deployment === true,
      items: phase.items.map((item) => itemJson(item, release.items[item.id], people)),
    })),
    blockers: gate.blockers.map(blockerJson),
    slack: permalink ? { permalink } : {},
  };
}
