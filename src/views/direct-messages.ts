import type { RoleHolders } from '../domain/access.js';
import type { DirectMessage } from '../domain/direct-messages.js';
import type { Release } from '../domain/release.js';
import { phaseDueAt } from '../domain/time.js';
import { renderCheckinDirect } from './checkin-messages.js';
import type { RenderedMessage } from './release-messages.js';
import { renderOwnerReminder, renderSupersededReminder } from './reminder-message.js';

// What a recorded direct message should show now, from the release's state: the sync compares it with
// what the message last showed and updates only what changed.

export interface DirectMessageContext {
  /** A newer reminder reached the same person about the same phase. */
  superseded: boolean;
  /** Who holds the roles of the reminder's phase (see responsibleFor). */
  holders: RoleHolders;
  /** The release thread's permalink, which reminders link to. */
  threadPermalink: string | undefined;
  now: number;
}

/** The render of a recorded DM, or undefined when the release no longer has what it was about. */
export function renderDirectMessage(
  release: Release,
  message: DirectMessage,
  context: DirectMessageContext,
): RenderedMessage | undefined {
  if (message.kind === 'checkin') {
    if (!release.checkins[message.checkinIndex]) return undefined;
    return renderCheckinDirect(release, message.checkinIndex, message.permalink);
  }
  const phase = release.template.phases[message.phaseIndex];
  if (!phase) return undefined;
  if (context.superseded) return renderSupersededReminder(release, message.phaseIndex);
  const dueAt = release.window ? phaseDueAt(release.window.at, phase.due) : undefined;
  return renderOwnerReminder(
    release,
    message.phaseIndex,
    message.userId,
    context.holders,
    dueAt,
    context.threadPermalink,
    context.now,
  );
}
