import { recordMissingPeople, recordPerson } from '../app/people.js';
import type { Config } from '../config/env.js';
import { isSlackUserId } from '../domain/people.js';
import { draftRetrospective } from '../domain/retrospective.js';
import type { Logger } from '../log.js';
import type { Scheduler } from '../queues/scheduler.js';
import { deliverOnce, releaseThread } from '../slack-api/delivery.js';
import type { SlackOutbound } from '../slack-api/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';
import { renderRetroDraft, renderRetroPrompt, renderRetroSaved } from '../views/retrospective.js';

// When a release completes or is rolled back, shipcheck drafts its retrospective from its own record
// and posts it in the thread, with a button for the team's part; later (RETRO_PROMPT_AFTER) it asks
// again, unless someone has written it by then. People are named as the release's people record has
// them; whoever it lacks is looked up first, once, and shown by id if Slack cannot say.

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
  const events = await deps.store.readAudit(teamId, releaseId);
  const draft = draftRetrospective(release, events);
  await recordMissingPeople(deps, teamId, releaseId, events, now);
  const people = await deps.store.people.forRelease(teamId, releaseId);
  await deliverOnce(deps, {
    teamId,
    releaseId,
    key: `retro-${releaseId}-draft`,
    channel: release.channelId,
    threadTs: headerTs,
    message: renderRetroDraft(release, draft, people),
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
export async function runRetroSaved(
  deps: RetroDeps,
  teamId: string,
  releaseId: string,
  eventId: string,
  now = Date.now(),
) {
  const found = await thread(deps, teamId, releaseId);
  const retro = found?.release.retro;
  if (!found || !retro) return;
  // The relay queues the writer's lookup beside this job; one try here, so the message need not wait.
  if (isSlackUserId(retro.by))
    await recordPerson(deps, teamId, releaseId, retro.by, now, 1).catch((err: unknown) =>
      deps.log.info({ err, teamId, releaseId }, 'writer not looked up; the message shows the mention'),
    );
  const people = await deps.store.people.forRelease(teamId, releaseId);
  await deliverOnce(deps, {
    teamId,
    releaseId,
    key: `retro-${releaseId}-saved-${eventId}`,
    channel: found.release.channelId,
    threadTs: found.headerTs,
    message: renderRetroSaved(found.release, retro, people),
  });
  deps.log.info({ teamId, releaseId }, 'retrospective shared');
}
