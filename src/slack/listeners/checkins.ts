import type { ViewSubmitAction } from '@slack/bolt';
import { checkPermission } from '../../app/access.js';
import { answerCheckin } from '../../app/answer-checkin.js';
import { resolveIssue } from '../../app/resolve-issue.js';
import { releaseClosed, type UserError } from '../../domain/errors.js';
import {
  type CheckInAnswerKind,
  ISSUE_SEVERITIES,
  type IssueSeverity,
  type Release,
} from '../../domain/release.js';
import {
  renderIssueModal,
  renderResolveIssueModal,
  renderRollbackModal,
} from '../../views/checkin-messages.js';
import { CallbackId, CheckinField, decodeReleaseIndexMetadata, ReleaseRoute } from '../../views/ids.js';
import type { SlackDeps } from '../deps.js';
import { ackWhenCommitted, commitTimer, runForSubmittedChange } from '../guard.js';
import { modalChoice, modalText } from '../modal-input.js';
import type { ListenerApp } from '../router.js';
import { describeUserError } from '../user-errors.js';
import { onReleaseRouteButton } from './release-button.js';

// Answers to post-deploy check-ins (Healthy, Issue found…, Roll back…) and resolving the issues they
// report: the buttons, the modals behind them, and what the person is told when an answer is refused.
// The answers themselves are src/app/answer-checkin.ts and src/app/resolve-issue.ts.

const MIN_TEXT = 3;
const MAX_TEXT = 500;

export function registerCheckinActions(app: ListenerApp, deps: SlackDeps): void {
  onReleaseRouteButton(app, deps, ReleaseRoute.checkinHealthy, async (click) => {
    const outcome = await answerCheckin(deps, {
      teamId: click.teamId,
      releaseId: click.releaseId,
      checkinIndex: click.index,
      answer: 'healthy',
      userId: click.userId,
      requestId: `${click.userId}-${click.actionTs}`,
    });
    if (!outcome.ok) await click.tell(describeUserError(outcome.error));
  });

  // "Issue found…" and "Roll back…" ask for details in a modal first.
  for (const [route, render] of [
    [ReleaseRoute.checkinIssue, renderIssueModal],
    [
      ReleaseRoute.checkinRollback,
      (release: Release, index: number, teamId: string) => renderRollbackModal(release, index, teamId),
    ],
  ] as const) {
    onReleaseRouteButton(app, deps, route, async ({ teamId, releaseId, index, userId, triggerId, tell }) => {
      const release = await deps.store.getRelease(teamId, releaseId);
      const refusal = release ? askableRefusal(release, index) : { code: 'item_unknown' as const };
      if (refusal) return void (await tell(describeUserError(refusal)));
      if (route === ReleaseRoute.checkinRollback) {
        const denied = await checkPermission(deps, 'rollback', userId, release!);
        if (denied) return void (await tell(describeUserError(denied)));
      }
      await deps.outbound.openView(triggerId, render(release!, index, teamId));
    });
  }

  app.view<ViewSubmitAction>(CallbackId.reportIssue, async ({ ack, body, view }) => {
    const metadata = decodeReleaseIndexMetadata(view.private_metadata);
    const what = modalText(view, CheckinField.whatBlock, CheckinField.whatAction);
    const severity = modalChoice(view, CheckinField.severityBlock, CheckinField.severityAction) as
      | IssueSeverity
      | undefined;
    const errors: Record<string, string> = {};
    if (what.length < MIN_TEXT || what.length > MAX_TEXT)
      errors[CheckinField.whatBlock] = `Describe the issue in ${MIN_TEXT} to ${MAX_TEXT} characters.`;
    if (!severity || !ISSUE_SEVERITIES.includes(severity))
      errors[CheckinField.severityBlock] = 'Choose how severe it is.';
    if (!metadata) errors[CheckinField.whatBlock] = describeUserError({ code: 'payload_invalid' });
    if (Object.keys(errors).length > 0) return void (await ack({ response_action: 'errors', errors }));
    const handling = submitAnswer(deps, body.user.id, view.id, metadata!, {
      answer: 'issue',
      note: what,
      severity: severity!,
    });
    // Acknowledged once the change is committed, or after the budget.
    await ackWhenCommitted(ack, handling, { observe: commitTimer(deps, 'checkin') });
    await handling;
  });

  app.view<ViewSubmitAction>(CallbackId.rollBack, async ({ ack, body, view }) => {
    const metadata = decodeReleaseIndexMetadata(view.private_metadata);
    const reason = modalText(view, CheckinField.reasonBlock, CheckinField.reasonAction);
    if (!metadata || reason.length < MIN_TEXT || reason.length > MAX_TEXT) {
      const text = metadata
        ? `Write why in ${MIN_TEXT} to ${MAX_TEXT} characters.`
        : describeUserError({ code: 'payload_invalid' });
      return void (await ack({ response_action: 'errors', errors: { [CheckinField.reasonBlock]: text } }));
    }
    const handling = submitAnswer(deps, body.user.id, view.id, metadata, {
      answer: 'rollback',
      note: reason,
    });
    // Acknowledged once the change is committed, or after the budget.
    await ackWhenCommitted(ack, handling, { observe: commitTimer(deps, 'checkin') });
    await handling;
  });

  onReleaseRouteButton(
    app,
    deps,
    ReleaseRoute.resolveIssue,
    async ({ teamId, releaseId, index, triggerId, tell }) => {
      const release = await deps.store.getRelease(teamId, releaseId);
      const issue = release?.issues.find((candidate) => candidate.id === index);
      if (!release || !issue) return void (await tell(describeUserError({ code: 'item_unknown' })));
      if (release.status !== 'active') return void (await tell(describeUserError(releaseClosed(release))));
      if (issue.resolvedBy)
        return void (await tell(describeUserError({ code: 'issue_resolved', by: issue.resolvedBy })));
      await deps.outbound.openView(triggerId, renderResolveIssueModal(release, issue.id, teamId));
    },
  );

  app.view<ViewSubmitAction>(CallbackId.resolveIssue, async ({ ack, body, view }) => {
    const metadata = decodeReleaseIndexMetadata(view.private_metadata);
    const resolution = modalText(view, CheckinField.resolutionBlock, CheckinField.resolutionAction);
    if (!metadata || resolution.length < MIN_TEXT || resolution.length > MAX_TEXT) {
      const text = metadata
        ? `Write how it was resolved in ${MIN_TEXT} to ${MAX_TEXT} characters.`
        : describeUserError({ code: 'payload_invalid' });
      return void (await ack({
        response_action: 'errors',
        errors: { [CheckinField.resolutionBlock]: text },
      }));
    }
    const { teamId, releaseId, index: issueId } = metadata;
    const userId = body.user.id;
    const context = { teamId, releaseId, issueId, userId };
    const handling = runForSubmittedChange(deps, deps.log, context, async (tell) => {
      const outcome = await resolveIssue(deps, {
        teamId,
        releaseId,
        issueId,
        userId,
        resolution,
        requestId: view.id,
      });
      if (!outcome.ok) await tell(describeUserError(outcome.error));
    });
    // Acknowledged once the change is committed, or after the budget.
    await ackWhenCommitted(ack, handling, { observe: commitTimer(deps, 'checkin') });
    await handling;
  });
}

/** Why a check-in cannot be answered now, or undefined when it can. */
function askableRefusal(release: Release, checkinIndex: number): UserError | undefined {
  const checkin = release.checkins[checkinIndex];
  if (!checkin?.postedAt) return { code: 'item_unknown' };
  if (release.status !== 'active') return releaseClosed(release);
  if (checkin.answer) return { code: 'checkin_answered', answer: checkin.answer.kind, by: checkin.answer.by };
  if (release.monitoring?.state !== 'open') return { code: 'checkin_closed' };
  return undefined;
}

async function submitAnswer(
  deps: SlackDeps,
  userId: string,
  viewId: string,
  metadata: { teamId: string; releaseId: string; index: number },
  details: { answer: CheckInAnswerKind; note: string; severity?: IssueSeverity },
): Promise<void> {
  const { teamId, releaseId, index } = metadata;
  const context = { teamId, releaseId, checkinIndex: index, userId };
  await runForSubmittedChange(deps, deps.log, context, async (tell) => {
    const outcome = await answerCheckin(deps, {
      teamId,
      releaseId,
      checkinIndex: index,
      userId,
      requestId: viewId,
      ...details,
    });
    if (!outcome.ok) await tell(describeUserError(outcome.error));
  });
}
