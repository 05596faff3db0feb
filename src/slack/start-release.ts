import { z } from 'zod';
import type { UserError } from '../domain/errors.js';
import { type ActiveFreeze, findActiveFreeze } from '../domain/freeze.js';
import type { DeployWindow } from '../domain/release.js';
import { checkinPlan } from '../domain/template.js';
import { checkPermission } from './access.js';
import type { SlackDeps } from './deps.js';

// Starting a release, shared by `/deploy start` and the freeze-override modal: the permission, the
// freeze windows of the environment, the release itself, its sync and its reminders.

export interface StartRequest {
  teamId: string;
  userId: string;
  /** Where the release's messages go. */
  channelId: string;
  version: string;
  env: string;
  templateId: string;
  window?: DeployWindow;
  /** Identifies the Slack request, so that a retry of it creates nothing new. */
  requestId: string;
  /** Where the sync reports a channel it cannot post in. */
  responseUrl?: string;
  /** Going ahead inside a freeze window, on the record. */
  freezeOverride?: { reason: string };
  /** From the start form: what stakeholders are told, and where (else the template's or configured channels). */
  notes?: string;
  downtime?: string;
  stakeholderChannels?: string[];
}

export type StartOutcome =
  | { kind: 'started'; releaseId: string; created: boolean }
  | { kind: 'refused'; error: UserError }
  | { kind: 'frozen'; freeze: ActiveFreeze };

export async function startRelease(deps: SlackDeps, request: StartRequest): Promise<StartOutcome> {
  const { teamId, userId, env } = request;
  const denied = await checkPermission(deps, 'start', userId);
  if (denied) return { kind: 'refused', error: denied };
  const template = deps.templates.get(request.templateId);
  if (!template) return { kind: 'refused', error: { code: 'payload_invalid' } };

  // A deploy is judged by when it will happen: its window, or now.
  const at = request.window?.at ?? Date.now();
  const freeze = findActiveFreeze(deps.config.freezeWindows, env, at);
  if (freeze && !request.freezeOverride) return { kind: 'frozen', freeze };
  if (freeze) {
    const refused = await checkPermission(deps, 'freeze_override', userId);
    if (refused) return { kind: 'refused', error: refused };
  }

  // Before the release exists, so the relay's sweep knows the workspace.
  await deps.relayStore.noteTeam(teamId);
  const result = await deps.store.startRelease({
    teamId,
    channelId: request.channelId,
    version: request.version,
    env,
    template,
    checkinPlanMs: checkinPlan(template, deps.config.checkins.scheduleMs),
    stakeholderChannels: request.stakeholderChannels?.length
      ? request.stakeholderChannels
      : (template.stakeholders ?? deps.config.stakeholderChannels),
    ...(request.notes ? { notes: request.notes } : {}),
    ...(request.downtime ? { downtime: request.downtime } : {}),
    userId,
    ...(request.window ? { window: request.window } : {}),
    ...(freeze && request.freezeOverride
      ? {
          freezeOverride: {
            reason: request.freezeOverride.reason,
            window: freeze.window.text,
            endsAt: freeze.endsAt,
          },
        }
      : {}),
    requestId: request.requestId,
    ...(request.responseUrl ? { replyUrl: request.responseUrl } : {}),
  });
  if (result.kind === 'exists') {
    const { permalink } = await deps.store.getMessages(teamId, result.releaseId);
    return {
      kind: 'refused',
      error: { code: 'release_exists', version: request.version, env, ...(permalink ? { permalink } : {}) },
    };
  }
  // A replayed start kicks the relay again, which finds nothing new (or finishes what a crash left).
  deps.relay.committed({ intent: 'start', teamId, releaseId: result.releaseId });
  deps.log.info(
    {
      teamId,
      releaseId: result.releaseId,
      version: request.version,
      env,
      templateId: request.templateId,
      replayed: result.kind === 'replayed',
      freezeOverridden: Boolean(freeze),
    },
    'release started',
  );
  return { kind: 'started', releaseId: result.releaseId, created: result.kind === 'created' };
}

/** A button's value holds at most 2,000 characters: long release notes are cut to fit it. */
export const FROZEN_NOTES_LENGTH = 800;

/** What a freeze refusal carries to the override modal: the start to try again. */
export const FrozenStart = z.object({
  version: z.string().min(1).max(64),
  env: z.string().min(1).max(32),
  templateId: z.string().min(1).max(32),
  channelId: z.string().regex(/^[CGD][A-Z0-9]{2,}$/),
  windowAt: z.number().int().optional(),
  windowZone: z.string().max(64).optional(),
  notes: z.string().max(FROZEN_NOTES_LENGTH).optional(),
  downtime: z.string().max(100).optional(),
  stakeholders: z
    .array(z.string().regex(/^[CG][A-Z0-9]{2,}$/))
    .max(5)
    .optional(),
});
export type FrozenStart = z.infer<typeof FrozenStart>;

export function encodeFrozenStart(start: FrozenStart): string {
  return JSON.stringify(start);
}

export function decodeFrozenStart(text: unknown): FrozenStart | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const parsed = FrozenStart.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
