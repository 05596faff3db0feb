import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { KnownBlock } from '@slack/types';
import {
  type CriterionEntry,
  describeCriterion,
  goCriteriaOf,
  redFlagsOf,
  rollbackCriteriaOf,
  successCriteriaOf,
} from '../domain/criteria.js';
import { isPhaseUnlocked, type Release } from '../domain/release.js';
import { goPhaseIndex, type Template } from '../domain/template.js';
import {
  type DesiredMessage,
  phaseMessageKey,
  planReleaseMessages,
  renderPhaseParts,
} from '../views/release-messages.js';
import {
  type CliIo,
  DEFAULT_CHECKLISTS_DIR,
  displayPath,
  ExitCode,
  listTemplateFiles,
  pathKind,
  plural,
  TEMPLATE_FILE,
} from './io.js';
import { formatProblem, lintTemplateText } from './lint.js';

// `shipcheck preview`: a phase's checklist messages, rendered for a fresh release exactly as the bot
// would post them, as Block Kit JSON and Block Kit Builder links.

export const BLOCK_KIT_BUILDER_URL = 'https://app.slack.com/block-kit-builder/#';

export const PREVIEW_USER = 'U0PREVIEW';
/** 2026-01-05 09:00 UTC: fixed, so that previews are stable. */
export const PREVIEW_STARTED_AT = Date.UTC(2026, 0, 5, 9, 0, 0);

export interface PreviewOptions {
  /** A template id (looked up in `dir`) or a path to a .yaml / .yml file. */
  template: string;
  /** A phase id or a 1-based phase number; the first phase when absent. */
  phase?: string;
  /** Tick every earlier phase's required items, so that the phase is unlocked. */
  unlocked: boolean;
  /** Print the release's header message instead of the phase's. */
  header: boolean;
  /** Print what the template measures (check-ins, criteria, red flags) instead of a message. */
  criteria?: boolean;
  /** The checklist folder template ids are looked up in. */
  dir?: string;
}

export function blockKitBuilderUrl(blocks: readonly KnownBlock[]): string {
  return `${BLOCK_KIT_BUILDER_URL}${encodeURIComponent(JSON.stringify({ blocks }))}`;
}

/**
 * A release of `template` just started, with nothing ticked and no overrides; with `unlockPhase`, the
 * required items of every phase before it are ticked (by the preview user, at the start time).
 */
export function previewRelease(template: Template, unlockPhase?: number): Release {
  const items: Release['items'] = {};
  for (const phase of template.phases.slice(0, unlockPhase ?? 0)) {
    for (const item of phase.items) {
      if (!item.required) continue;
      // A ticked item that records a value shows the template's example as its value.
      const value = item.record?.example;
      items[item.id] = { done: true, by: PREVIEW_USER, at: PREVIEW_STARTED_AT, ...(value ? { value } : {}) };
    }
  }
  return {
    id: 'r1',
    teamId: 'T0PREVIEW',
    channelId: 'C0PREVIEW',
    version: 'v1.0.0',
    env: 'production',
    template,
    startedBy: PREVIEW_USER,
    startedAt: PREVIEW_STARTED_AT,
    status: 'active',
    items,
    overrides: [],
    owners: {},
    stakeholderChannels: [],
    snoozes: {},
    checkins: [],
    issues: [],
    rev: 1 + Object.keys(items).length,
  };
}

/**
 * The messages the bot would post or update for the phase, or for the header: planReleaseMessages,
 * the renderer the sync job posts from, so block ids carry the fingerprint Slack sees.
 */
export function previewMessages(release: Release, phaseIndex: number | 'header'): DesiredMessage[] {
  if (phaseIndex === 'header') {
    return planReleaseMessages(release, new Set(), {}).filter((message) => message.key === 'header');
  }
  // Say the phase's messages were posted already, so that a locked phase is rendered too.
  const keys = renderPhaseParts(release, phaseIndex).map((_part, part) => phaseMessageKey(phaseIndex, part));
  const wanted = new Set(keys);
  return planReleaseMessages(release, wanted, {}).filter((message) => wanted.has(message.key));
}

type Loaded = { template: Template; shown: string } | { code: ExitCode };

function looksLikePath(reference: string): boolean {
  return TEMPLATE_FILE.test(reference) || reference.includes('/') || reference.includes(path.sep);
}

async function loadOne(io: CliIo, absolute: string): Promise<Loaded> {
  const shown = displayPath(io.cwd, absolute);
  const linted = lintTemplateText(shown, await readFile(absolute, 'utf8'));
  if (!linted.template) {
    for (const problem of linted.problems) io.stderr(`${formatProblem(shown, problem)}\n`);
    io.stderr(`shipcheck preview: ${shown} is not a valid template; fix the problems above first.\n`);
    return { code: ExitCode.problems };
  }
  return { template: linted.template, shown };
}

async function loadTemplate(io: CliIo, options: PreviewOptions): Promise<Loaded> {
  if (looksLikePath(options.template)) {
    const absolute = path.resolve(io.cwd, options.template);
    if ((await pathKind(absolute)) !== 'file') {
      io.stderr(`shipcheck preview: ${options.template}: no such file\n`);
      return { code: ExitCode.problems };
    }
    return loadOne(io, absolute);
  }
  const dir = options.dir ?? DEFAULT_CHECKLISTS_DIR;
  const folder = path.resolve(io.cwd, dir);
  if ((await pathKind(folder)) !== 'folder') {
    io.stderr(
      `shipcheck preview: no checklist folder ${dir} here (run from the project root, pass --dir, or give a path to a .yaml file)\n`,
    );
    return { code: ExitCode.problems };
  }
  const names = await listTemplateFiles(folder);
  const name = names.find((candidate) => candidate.replace(TEMPLATE_FILE, '') === options.template);
  if (!name) {
    const ids = names.map((candidate) => candidate.replace(TEMPLATE_FILE, ''));
    io.stderr(`shipcheck preview: no template "${options.template}" in ${displayPath(io.cwd, folder)}/\n`);
    io.stderr(ids.length > 0 ? `Templates there: ${ids.join(', ')}\n` : 'There are no templates there.\n');
    return { code: ExitCode.problems };
  }
  return loadOne(io, path.join(folder, name));
}

function findPhase(template: Template, reference: string | undefined): number | undefined {
  if (reference === undefined) return 0;
  if (/^[0-9]+$/.test(reference)) {
    const number = Number(reference);
    return number >= 1 && number <= template.phases.length ? number - 1 : undefined;
  }
  const index = template.phases.findIndex((phase) => phase.id === reference);
  return index === -1 ? undefined : index;
}

function listPhases(template: Template): string {
  const width = Math.max(...template.phases.map((phase) => phase.id.length));
  return template.phases
    .map((phase, index) => `${String(index + 1).padStart(4)}  ${phase.id.padEnd(width)}  ${phase.name}`)
    .join('\n');
}

function describeEntries(entries: readonly CriterionEntry[]): string[] {
  const width = Math.max(0, ...entries.map((entry) => (typeof entry === 'string' ? 0 : entry.id.length)));
  return entries.flatMap((entry) => {
    const id = typeof entry === 'string' ? '-' : entry.id;
    const line = `  ${id.padEnd(width)}  ${describeCriterion(entry)}`;
    return typeof entry !== 'string' && entry.metric
      ? [line, `  ${' '.repeat(width)}  metric: ${entry.metric}`]
      : [line];
  });
}

/** The items that record a value when ticked, with what each records and how it is checked. */
export function describeRecords(template: Template): string[] {
  const recording = [
    ...template.phases.flatMap((phase) => phase.items.map((item) => ({ where: phase.id, item }))),
    ...(template.rollback?.items ?? []).map((item) => ({ where: 'rollback', item })),
  ].filter(({ item }) => item.record);
  if (recording.length === 0) return ['Recorded values: none'];
  return [
    'Recorded values (asked for when the item is ticked):',
    ...recording.map(({ where, item }) => {
      const record = item.record!;
      const details = [
        record.kind,
        record.optional ? 'optional' : undefined,
        record.pattern ? `pattern ${record.pattern}` : undefined,
        record.example ? `like ${record.example}` : undefined,
      ].filter(Boolean);
      return `  ${where}/${item.id}: ${record.label} (${details.join(', ')})`;
    }),
  ];
}

/** What the template measures, as plain text: check-ins, criteria, red flags, and the items that show them. */
export function describeMeasures(template: Template): string[] {
  const lines: string[] = [];
  const deployment = template.phases.some((phase) => phase.deployment);
  const checkins = !deployment
    ? 'none (no phase is marked `deployment: true`)'
    : template.checkins
      ? template.checkins.join(', ')
      : 'CHECKIN_SCHEDULE (the template sets none)';
  lines.push(`Check-ins after the deploy: ${checkins}`);
  const success = successCriteriaOf(template);
  lines.push(
    success.length > 0 ? 'Success criteria:' : 'Success criteria: none',
    ...describeEntries(success),
  );
  const goIndex = goPhaseIndex(template);
  const go = goCriteriaOf(template);
  if (goIndex === undefined) lines.push('Go criteria: none (no phase waits for the go/no-go call)');
  else {
    const where = `shown with the Go button of phase ${goIndex + 1}, ${template.phases[goIndex]!.name}`;
    lines.push(
      go.length > 0 ? `Go criteria (${where}):` : `Go criteria: none (${where})`,
      ...describeEntries(go),
    );
  }
  const rollback = rollbackCriteriaOf(template);
  lines.push(
    rollback.length > 0 ? 'Rollback criteria:' : 'Rollback criteria: none',
    ...describeEntries(rollback),
  );
  const whose = template.redflags ? "the template's own" : 'the built-in list; the template sets none';
  lines.push(`Red flags (${whose}):`, ...redFlagsOf(template).map((flag) => `  - ${flag}`));
  const referring = [
    ...template.phases.flatMap((phase) => phase.items.map((item) => ({ where: phase.id, item }))),
    ...(template.rollback?.items ?? []).map((item) => ({ where: 'rollback', item })),
  ].filter(({ item }) => item.criteria);
  if (referring.length > 0) {
    lines.push('Items that show criteria:');
    for (const { where, item } of referring)
      lines.push(`  ${where}/${item.id}: ${item.criteria!.join(', ')}`);
  }
  lines.push(...describeRecords(template));
  lines.push(...describePipelineItems(template));
  return lines;
}

/** The items a pipeline may tick through the API (`pipeline: true`), with the value its tick brings. */
export function describePipelineItems(template: Template): string[] {
  const marked = [
    ...template.phases.flatMap((phase) =>
      phase.items.map((item) => ({ where: phase.id, deployment: phase.deployment === true, item })),
    ),
    ...(template.rollback?.items ?? []).map((item) => ({ where: 'rollback', deployment: false, item })),
  ].filter(({ item }) => item.pipeline);
  if (marked.length === 0) return ['Pipeline items: none (no item is marked `pipeline: true`)'];
  return [
    'Pipeline items (a CI/CD pipeline may tick these with its token):',
    ...marked.map(({ where, deployment, item }) => {
      const value = item.record ? `, with ${item.record.label}` : '';
      // Deployment ticks are the ones a freeze window refuses.
      const phase = deployment ? ' (deployment phase)' : '';
      return `  ${where}/${item.id}${value}${phase}`;
    }),
  ];
}

function printMessages(io: CliIo, messages: DesiredMessage[]): void {
  messages.forEach((message, index) => {
    const label = messages.length > 1 ? `Message ${index + 1} of ${messages.length}` : 'Message';
    io.stdout(`\n── ${label} · ${plural(message.blocks.length, 'block')} · text: ${message.text}\n`);
    io.stdout(`${JSON.stringify({ blocks: message.blocks }, null, 2)}\n`);
    io.stdout(`${blockKitBuilderUrl(message.blocks)}\n`);
  });
}

/** Runs `shipcheck preview`. */
export async function runPreview(io: CliIo, options: PreviewOptions): Promise<ExitCode> {
  const loaded = await loadTemplate(io, options);
  if ('code' in loaded) return loaded.code;
  const { template, shown } = loaded;
  if (options.criteria) {
    io.stdout(`${template.id} (${shown}): what the template measures\n`);
    io.stdout(`${describeMeasures(template).join('\n')}\n`);
    return ExitCode.ok;
  }
  const phaseIndex = findPhase(template, options.phase);
  if (phaseIndex === undefined) {
    io.stderr(`shipcheck preview: no phase "${options.phase}" in ${template.id}. Its phases:\n`);
    io.stderr(`${listPhases(template)}\n`);
    return ExitCode.problems;
  }
  const phase = template.phases[phaseIndex]!;
  const release = previewRelease(template, options.unlocked ? phaseIndex : undefined);
  const ticked =
    options.unlocked && phaseIndex > 0
      ? `, with the required items of phase${phaseIndex > 1 ? `s 1–${phaseIndex}` : ' 1'} ticked`
      : '';
  const where = `phase ${phaseIndex + 1} of ${template.phases.length}, ${phase.name} (${phase.id})`;

  if (options.header) {
    io.stdout(`${template.id} (${shown}): release header, as posted for a fresh release${ticked}\n`);
    printMessages(io, previewMessages(release, 'header'));
    return ExitCode.ok;
  }
  const messages = previewMessages(release, phaseIndex);
  io.stdout(
    `${template.id} (${shown}): ${where}, ${plural(messages.length, 'message')}, as posted for a fresh release${ticked}\n`,
  );
  printMessages(io, messages);
  if (!isPhaseUnlocked(release, phaseIndex)) {
    io.stderr(
      `note: in a fresh release, phase ${phaseIndex + 1} is locked and shown read-only; add --unlocked to see it with its checkboxes.\n`,
    );
  }
  return ExitCode.ok;
}
