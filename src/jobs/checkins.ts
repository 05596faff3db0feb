import type { Relay } from '../app/relay.js';
import type { Config } from '../config/env.js';
import { type CheckinMetrics, metricCriteria } from '../domain/metric-checks.js';
import type { CheckIn, Release } from '../domain/release.js';
import type { Logger } from '../log.js';
import type { MetricsSource } from '../metrics-source/prometheus.js';
import type { CheckinJob } from '../queues/scheduler.js';
import { deliverOnce, directMessageTarget, releaseThread } from '../slack-api/delivery.js';
import { type SlackOutbound, SlackPlatformError } from '../slack-api/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';
import { renderCheckin, renderCheckinDirect, renderCheckinEscalation } from '../views/checkin-messages.js';
import { checkinMessageKey, fingerprintMessage } from '../views/fingerprint.js';
import { evaluateRelease, METRICS_USER, observationsOf } from './metric-evaluation.js';
import { deliverDirectMessage } from './sync-direct-messages.js';

// Post-deploy check-ins. Each posts "is it healthy?" in the release thread at its offset after the
// deploy; one left unanswered for CHECKIN_ESCALATE_AFTER pings the release owner again, in the thread
// and by direct message. Answers arrive as clicks (src/slack/listeners/checkins.ts).

export interface CheckinDeps {
  store: ReleaseStore;
  outbound: SlackOutbound;
  config: Pick<Config, 'checkins'>;
  log: Logger;
  /**
   * Relays the events a job appended at once instead of at the next sweep, and asks for the sync
   * that keeps the escalation DM true.
   */
  relay?: Pick<Relay, 'kick' | 'requestSync'>;
  /** Where measured success criteria are read; undefined (no PROMETHEUS_URL) asks without numbers. */
  metricsSource?: MetricsSource | undefined;
}

type Askable = { release: Release; checkin: CheckIn; headerTs: string } | { drop: string };

/** The release and check-in if the check-in can still be asked, else why not. */
async function readAskable(deps: CheckinDeps, job: CheckinJob): Promise<Askable> {
  const release = await deps.store.getRelease(job.teamId, job.releaseId);
  if (!release) return { drop: 'release gone' };
  if (release.status !== 'active') return { drop: `release ${release.status}` };
  if (release.monitoring?.state !== 'open') return { drop: 'monitoring window closed' };
  const checkin = release.checkins[job.checkinIndex];
  if (checkin?.index !== job.checkinIndex) return { drop: 'no such check-in' };
  const thread = await releaseThread(deps.store, job.teamId, job.releaseId);
  if (thread === 'unpostable') return { drop: 'release never posted' };
  return { release, checkin, headerTs: thread.headerTs };
}

export async function runCheckin(deps: CheckinDeps, job: CheckinJob, now = Date.now()): Promise<void> {
  const log = deps.log.child({
    teamId: job.teamId,
    releaseId: job.releaseId,
    checkinIndex: job.checkinIndex,
  });
  const askable = await readAskable(deps, job);
  if ('drop' in askable) return void log.info({ reason: askable.drop }, 'check-in dropped');
  const { release, checkin, headerTs } = askable;
  if (checkin.postedAt === undefined) {
    const metrics = await measureCheckin(deps, release, checkin.index, now);
    const observed = metrics ? observationsOf(release, metrics) : {};
    const shown = metrics ? withCheckin(release, checkin.index, { metrics, observed }) : release;
    const message = renderCheckin(shown, checkin.index);
    const { ts, posted } = await deliverOnce(deps, {
      teamId: job.teamId,
      releaseId: job.releaseId,
      key: `checkin-${job.releaseId}-k${checkin.index}`,
      channel: release.channelId,
      threadTs: headerTs,
      message,
      // The numbers go on the record with the post, as the message shows them.
      record: {
        hash: 'meta',
        field: `checkin:${checkin.index}`,
        patch: {
          postedAt: now,
          ...(metrics ? { metrics } : {}),
          ...(Object.keys(observed).length > 0 ? { observed } : {}),
        },
      },
      audit: [
        { type: 'checkin_posted', user: 'shipcheck', from: 'planned', to: 'posted', checkin: checkin.index },
        ...Object.entries(observed).map(([criterion, observation]) => ({
          type: 'criterion_recorded',
          user: METRICS_USER,
          checkin: checkin.index,
          criterion,
          from: 'none',
          to: String(observation.value),
        })),
      ],
    });
    // What the message shows now; the sync updates it when an answer changes that.
    await deps.store.messages.saveRef(job.teamId, job.releaseId, checkinMessageKey(checkin.index), {
      ts,
      hash: fingerprintMessage(message),
    });
    log.info({ ts, posted, suggestion: metrics?.suggestion }, 'check-in posted');
    // Its escalation and the header's update follow from the checkin_posted event.
    deps.relay?.kick(job.teamId, job.releaseId);
  }
}

/**
 * The check-in's metric evaluation: the one kept by an earlier attempt, else a new one, kept before
 * anything is posted. Prometheus down or slow gives results without values (inconclusive), not a
 * failed job: the question is asked on time either way.
 */
async function measureCheckin(
  deps: CheckinDeps,
  release: Release,
  checkinIndex: number,
  now: number,
): Promise<CheckinMetrics | undefined> {
  if (!deps.metricsSource || metricCriteria(release.template).length === 0) return undefined;
  const kept = await deps.store.metrics.checkinMetrics(release.teamId, release.id, checkinIndex);
  if (kept) return kept;
  const metrics = await evaluateRelease(deps.metricsSource, release, now);
  if (!metrics) return undefined;
  deps.log.info(
    {
      releaseId: release.id,
      checkinIndex,
      verdicts: Object.fromEntries(metrics.results.map((result) => [result.criterionId, result.verdict])),
    },
    'check-in metrics evaluated',
  );
  return deps.store.metrics.keepCheckinMetrics(release.teamId, release.id, checkinIndex, metrics);
}

/** The release as it will be once the check-in's post is recorded with these fields. */
function withCheckin(release: Release, checkinIndex: number, patch: Partial<CheckIn>): Release {
  return {
    ...release,
    checkins: release.checkins.map((checkin) =>
      checkin.index === checkinIndex ? { ...checkin, ...patch } : checkin,
    ),
  };
}

export async function runCheckinEscalation(
  deps: CheckinDeps,
  job: CheckinJob,
  now = Date.now(),
): Promise<void> {
  const log = deps.log.child({
    teamId: job.teamId,
    releaseId: job.releaseId,
    checkinIndex: job.checkinIndex,
  });
  const askable = await readAskable(deps, job);
  if ('drop' in askable) return void log.info({ reason: askable.drop }, 'escalation dropped');
  const { release, checkin, headerTs } = askable;
  if (checkin.answer) return void log.info('escalation dropped: answered');
  if (checkin.postedAt === undefined) throw new Error('check-in not posted yet');
  const owner = release.startedBy;
  if (checkin.escalatedAt === undefined) {
    await deliverOnce(deps, {
      teamId: job.teamId,
      releaseId: job.releaseId,
      key: `checkin-${job.releaseId}-k${checkin.index}-escalate`,
      channel: release.channelId,
      threadTs: headerTs,
      message: renderCheckinEscalation(release, checkin.index, deps.config.checkins.escalateAfterMs),
      record: {
        hash: 'meta',
        field: `checkin:${checkin.index}`,
        patch: { escalatedAt: now },
        // The check-in's own ts stays: its permalink and its redraw need the question, not the nudge.
        tsAs: 'escalationTs',
      },
      audit: [
        {
          type: 'checkin_escalated',
          user: 'shipcheck',
          from: 'posted',
          to: 'escalated',
          checkin: checkin.index,
          recipient: owner,
        },
      ],
    });
    deps.relay?.kick(job.teamId, job.releaseId);
  }
  try {
    const permalink = checkin.ts
      ? await deps.outbound.getPermalink(release.channelId, checkin.ts).catch(() => undefined)
      : undefined;
    const key = `checkin-${job.releaseId}-k${checkin.index}-escalate-dm`;
    const message = renderCheckinDirect(release, checkin.index, permalink);
    // Recorded with the post, so the sync shows the answer there once someone gives it.
    const about = { kind: 'checkin', userId: owner, checkinIndex: checkin.index, permalink };
    await deliverDirectMessage(deps, {
      teamId: job.teamId,
      releaseId: job.releaseId,
      key,
      channel: await directMessageTarget(deps, job.teamId, owner),
      message,
      about,
    });
    // An answer given while it was on its way is shown by this sync.
    await deps.relay?.requestSync(job.teamId, job.releaseId);
  } catch (err) {
    if (!(err instanceof SlackPlatformError)) throw err;
    log.warn(
      { owner, slackError: err.slackError },
      'escalation DM impossible; the thread message names them',
    );
  }
  log.info({ owner }, 'check-in escalated');
}
