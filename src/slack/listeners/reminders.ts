import type { BlockAction, ButtonAction } from '@slack/bolt';
import { resolvePhaseHolders } from '../../app/access.js';
import { setItem } from '../../app/set-item.js';
import { snoozeReminders } from '../../app/snooze-reminders.js';
import { compareSlackTs } from '../../domain/direct-messages.js';
import type { UserErrorCode } from '../../domain/errors.js';
import type { Release } from '../../domain/release.js';
import { findItem } from '../../domain/template.js';
import { phaseDueAt } from '../../domain/time.js';
import {
  ActionId,
  decodeItemDoneActionId,
  decodeReleaseAction,
  decodeUserId,
  ITEM_DONE_PATTERN,
  ReleaseRoute,
  releaseRoutePattern,
} from '../../views/ids.js';
import {
  renderOwnerReminder,
  renderSupersededReminder,
  SNOOZE_CHOICES,
} from '../../views/reminder-message.js';
import { describeUserError } from '../../views/user-errors.js';
import type { SlackDeps } from '../deps.js';
import { ackWhenCommitted, commitTimer, replyUrlOf, runGuarded } from '../guard.js';
import type { ListenerApp } from '../router.js';

// The buttons of a reminder DM: tick an item without leaving the DM, or snooze the reminders of that
// phase. Each is acknowledged once its change is committed. The DM then shows what is true now: the
// sync that follows the change redraws every DM recorded with the release; one it does not keep is
// redrawn here.

type Container = { channel_id?: string; message_ts?: string };

const ACCESS_REFUSALS: ReadonlySet<UserErrorCode> = new Set([
  'not_permitted',
  'own_release',
  'role_check_failed',
]);

export function registerReminderActions(app: ListenerApp, deps: SlackDeps): void {
  // Link buttons send a click too; Slack wants it acknowledged.
  app.action(ActionId.openLink, async ({ ack }) => {
    await ack();
  });

  app.action<BlockAction<ButtonAction>>(
    { action_id: ITEM_DONE_PATTERN },
    async ({ ack, body, action, respond }) => {
      const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
      const teamId = body.team?.id;
      const userId = decodeUserId(body.user);
      const target = decodeItemDoneActionId(action.action_id);
      if (!teamId || !userId || !target) {
        await ack();
        return void (await tell(describeUserError({ code: 'payload_invalid' })).catch(() => {}));
      }
      const context = { teamId, ...target, userId };
      const committing = setItem(deps, {
        teamId,
        releaseId: target.releaseId,
        itemId: target.itemId,
        done: true,
        userId,
        requestId: `${userId}-${action.action_ts}-${target.releaseId}-${target.itemId}`,
        click: replyUrlOf(body),
      });
      await ackWhenCommitted(ack, committing, { observe: commitTimer(deps, 'reminder-done') });
      await runGuarded(deps.log, context, tell, async () => {
        const outcome = await committing;
        if (!outcome.ok) await tell(describeUserError(outcome.error));
        // An access refusal changed nothing, and its button may not even be this DM's own (a forged
        // action id): the DM stays as it is. Otherwise it is redrawn from what is stored now.
        if (!outcome.ok && ACCESS_REFUSALS.has(outcome.error.code)) return;
        const release = await deps.store.getRelease(teamId, target.releaseId);
        const phaseIndex = release ? findItem(release.template, target.itemId)?.phaseIndex : undefined;
        if (release && phaseIndex !== undefined) {
          await refreshReminder(deps, body.container as Container, release, phaseIndex, userId);
        }
      });
    },
  );

  app.action<BlockAction<ButtonAction>>(
    { action_id: releaseRoutePattern(ReleaseRoute.snooze) },
    async ({ ack, body, action, respond }) => {
      const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
      const teamId = body.team?.id;
      const target = decodeReleaseAction(ReleaseRoute.snooze, action.action_id);
      const snoozeMs = target?.extra
        ? SNOOZE_CHOICES[target.extra as keyof typeof SNOOZE_CHOICES]
        : undefined;
      const userId = decodeUserId(body.user);
      if (!teamId || !userId || !target || snoozeMs === undefined) {
        await ack();
        return void (await tell(describeUserError({ code: 'payload_invalid' })).catch(() => {}));
      }
      const phaseIndex = target.index;
      const context = { teamId, releaseId: target.releaseId, phaseIndex, userId };
      const committing = snoozeReminders(deps, {
        teamId,
        releaseId: target.releaseId,
        phaseIndex,
        userId,
        snoozeMs,
        requestId: `${userId}-${action.action_ts}`,
      });
      await ackWhenCommitted(ack, committing, { observe: commitTimer(deps, 'reminder-snooze') });
      await runGuarded(deps.log, context, tell, async () => {
        const outcome = await committing;
        if (!outcome.ok) return void (await tell(describeUserError(outcome.error)));
        const snoozed = await deps.store.getRelease(teamId, target.releaseId);
        if (snoozed) await refreshReminder(deps, body.container as Container, snoozed, phaseIndex, userId);
      });
    },
  );
}

/**
 * Re-renders the reminder DM the click came from, unless the sync keeps it (one writer per message).
 * One the sync no longer keeps (posted before DMs were recorded, or superseded and told so) shows the
 * current state only while no newer reminder to this person about the phase is recorded.
 */
async function refreshReminder(
  deps: SlackDeps,
  container: Container | undefined,
  release: Release,
  phaseIndex: number,
  userId: string,
): Promise<void> {
  if (!container?.channel_id || !container.message_ts) return;
  const teamId = release.teamId;
  const [{ permalink, directMessages }, holders] = await Promise.all([
    deps.store.messages.get(teamId, release.id),
    resolvePhaseHolders(deps, release, phaseIndex),
  ]);
  const ts = container.message_ts;
  const recorded = [...directMessages.values()];
  if (recorded.some((message) => message.ts === ts && message.userId === userId)) return;
  const superseded = recorded.some(
    (message) =>
      message.kind === 'reminder' &&
      message.userId === userId &&
      message.phaseIndex === phaseIndex &&
      compareSlackTs(message.ts, ts) > 0,
  );
  const dueAt = release.window
    ? phaseDueAt(release.window.at, release.template.phases[phaseIndex]?.due)
    : undefined;
  await deps.outbound.updateMessage(teamId, {
    channel: container.channel_id,
    ts,
    ...(superseded
      ? renderSupersededReminder(release, phaseIndex)
      : renderOwnerReminder(release, phaseIndex, userId, holders, dueAt, permalink, Date.now())),
  });
}
