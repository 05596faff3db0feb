import type { Config } from '../config/env.js';
import { draftRetrospective } from '../domain/retrospective.js';
import type { Logger } from '../log.js';
import type { Scheduler } from '../queues/scheduler.js';
import { deliverOnce, releaseThread } from '../slack-api/delivery.js';
import type { SlackOutbound } from '../slack-api/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';
import { renderRetroDraft, renderRetroPrompt, renderRetroSaved } from '../views/retrospective.js';

// When a release completes or is rolled back, shipcheck drafts its retrospective from its own record
// and posts it in the thread, with a button for the team's part; later (RETRO_PROMPT_AFTER) it asks
// again, unless someone has written it by then.

export interface RetroDeps {
  store: ReleaseStore;
  outbound: SlackOutbound;
  scheduler: Pick<Scheduler, 'schedule'>;
  config: Pick<Config, 'retroPromptAfterMs'>;
  log: Logger;
}

async function thread(deps: RetroDeps, teamId: string, releaseId: string) {
  const release = await deps.store.getRelease(teamId, releaseId);
  if (!release) return undefined;
  const found = await releaseThread(deps.store, teamId, releaseId);
  return found === 'unpostable' ? undefined : { release, headerTs: found.headerTs };
}

export async function runRetroDraft(deps: RetroDeps, teamId: string, releaseId: string, now = Date.now()) {
  const found = await thread(deps, teamId, releaseId);
  if (!found) return void deps.log.info({ teamId, releaseId }, 'retrospective draft dropped: no thread');
  const { release, headerTs } = found;
  const draft = draftRetrospective(release, await deps.store.readAudit(teamId, releaseId));
  await deliverOnce(deps, {
    teamId,
    releaseId,
    key: `retro-${releaseId}-draft`,
    channel: release.channelId,
    threadTs: headerTs,
    message: renderRetroDraft(release, draft),
  });
  await deps.scheduler.schedule(
    { kind: 'retro-prompt', teamId, releaseId },
    now + deps.config.retroPromptAfterMs,
  );
  deps.log.info({ teamId, releaseId, findings: draft.findings.length }, 'retrospective drafted');
}

export async function runRetroPrompt(deps: RetroDeps, teamId: string, releaseId: string) {
  const found = await thread(deps, teamId, releaseId);
  if (!found) return;
  if (found.release.retro)
    return void deps.log.info({ teamId, releaseId }, 'retrospective prompt dropped: written');
  await deliverOnce(deps, {
    teamId,
    releaseId,
    key: `retro-${releaseId}-prompt`,
    channel: found.release.channelId,
    threadTs: found.headerTs,
    message: renderRetroPrompt(found.release),
  });
}

/** Posts the team's retrospective in the thread, once per save. */
export async function runRetroSaved(deps: RetroDeps, teamId: string, releaseId: string, eventId: string) {
  const found = await thread(deps, teamId, releaseId);
  if (!found?.release.retro) return;
  await deliverOnce(deps, {
    teamId,
    releaseId,
    key: `retro-${releaseId}-saved-${eventId}`,
    channel: found.release.channelId,
    threadTs: found.headerTs,
    message: renderRetroSaved(found.release, found.release.retro),
  });
  deps.log.info({ teamId, releaseId }, 'retrospective shared');
}
