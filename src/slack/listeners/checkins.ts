import type { ViewOutput, ViewSubmitAction } from '@slack/bolt';
import { checkPermission } from '../../app/access.js';
import { answerCheckin } from '../../app/answer-checkin.js';
import { type RecordObservationsRequest, recordObservations } from '../../app/record-observations.js';
import { resolveIssue } from '../../app/resolve-issue.js';
import { releaseClosed, type UserError } from '../../domain/errors.js';
import { measurableCriteria, parseObservedValue } from '../../domain/observations.js';
import {
  type CheckInAnswerKind,
  ISSUE_SEVERITIES,
  type IssueSeverity,
  type Release,
} from '../../domain/release.js';
import {
  renderIssueModal,
  renderObservationsModal,
  renderResolveIssueModal,
  renderRollbackModal,
} from '../../views/checkin-messages.js';
import {
  CallbackId,
  CheckinField,
  decodeReleaseIndexMetadata,
  ObservationField,
  ReleaseRoute,
} from '../../views/ids.js';
import { describeUserError } from '../../views/user-errors.js';
import type { SlackDeps } from '../deps.js';
import { ackWhenCommitted, commitTimer, runForSubmittedChange } from '../guard.js';
import { modalChoice, modalText } from '../modal-input.js';
import type { ListenerApp } from '../router.js';
import { onReleaseRouteButton } from './release-button.js';

// Answers to post-deploy check-ins (Healthy, Issue found…, Roll back…), the values observed for the
// template's success criteria (Record values…), and resolving the issues they report: the buttons, the
// modals behind them, and what the person is told when a change is refused. The changes themselves are
// src/app/answer-checkin.ts, src/app/record-observations.ts and src/app/resolve-issue.ts.

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
    ReleaseRoute.checkinRecord,
    async ({ teamId, releaseId, index, triggerId, tell }) => {
      const release = await deps.store.getRelease(teamId, releaseId);
      if (!release?.checkins[index]?.postedAt || measurableCriteria(release.template).length === 0)
        return void (await tell(describeUserError({ code: 'item_unknown' })));
      if (release.status !== 'active') return void (await tell(describeUserError(releaseClosed(release))));
      await deps.outbound.openView(triggerId, renderObservationsModal(release, index, teamId));
    },
  );

  app.view<ViewSubmitAction>(CallbackId.recordObservations, async ({ ack, body, view }) => {
    const metadata = decodeReleaseIndexMetadata(view.private_metadata);
    if (!metadata) return void (await ack());
    const { teamId, releaseId, index } = metadata;
    const userId = body.user.id;
    let acked = false;
    let errors: Record<string, string> | undefined;
    const handling = runForSubmittedChange(
      deps,
      deps.log,
      { teamId, releaseId, index, userId },
      async (tell) => {
        // Each value is checked against its criterion's unit, which the release's template gives; a value
        // that does not fit goes back to the form, or is told when the acknowledgement could not wait.
        const release = await deps.store.getRelease(teamId, releaseId);
        if (!release) return void (await tell(describeUserError({ code: 'item_unknown' })));
        const form = readObservationForm(view, release);
        if (form.errors) {
          errors = form.errors;
          if (acked) await tell(Object.values(form.errors).join(' '));
          return;
        }
        if (form.values.length === 0) return;
        const outcome = await recordObservations(deps, {
          teamId,
          releaseId,
          checkinIndex: index,
          userId,
          values: form.values,
          requestId: view.id,
        });
        if (!outcome.ok) await tell(describeUserError(outcome.error));
      },
    );
    const answer = async () => {
      acked = true;
      await ack(errors ? { response_action: 'errors', errors } : undefined);
    };
    // Acknowledged once the change is committed, or after the budget.
    await ackWhenCommitted(answer, handling, { observe: commitTimer(deps, 'checkin') });
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

/** The initial value of each number in the form as it was opened, by block id. */
function openedValues(view: ViewOutput): Map<string, string> {
  const opened = new Map<string, string>();
  for (const block of (Array.isArray(view.blocks) ? view.blocks : []) as {
    block_id?: unknown;
    element?: { initial_value?: unknown };
  }[]) {
    const initial = block.element?.initial_value;
    if (typeof block.block_id === 'string' && typeof initial === 'string')
      opened.set(block.block_id, initial.trim());
  }
  return opened;
}

/**
 * The values of the "Record values…" form that changed since it was opened (an emptied field clears
 * the value), or the fields whose value does not fit its criterion. Writing only what changed keeps a
 * form opened earlier from undoing what someone else recorded meanwhile.
 */
function readObservationForm(
  view: ViewOutput,
  release: Release,
): { values: RecordObservationsRequest['values']; errors?: Record<string, string> } {
  const opened = openedValues(view);
  const values: RecordObservationsRequest['values'] = [];
  const errors: Record<string, string> = {};
  for (const criterion of measurableCriteria(release.template)) {
    const blockId = `${ObservationField.blockPrefix}${criterion.id}`;
    // Slack leaves an emptied optional field out of the state.
    const text = modalText(view, blockId, ObservationField.action);
    if (text === (opened.get(blockId) ?? '')) continue;
    if (text === '') {
      values.push({ criterionId: criterion.id });
      continue;
    }
    const parsed = parseObservedValue(text, criterion.unit);
    if (parsed.ok) values.push({ criterionId: criterion.id, value: parsed.value });
    else errors[blockId] = parsed.problem;
  }
  return Object.keys(errors).length > 0 ? { values, errors } : { values };
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
