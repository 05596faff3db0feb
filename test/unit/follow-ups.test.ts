import { describe, expect, it } from 'vitest';
import { AUDIT_EVENT_TYPES } from '../../src/domain/audit.js';
import {
  type FollowUp,
  followUpsNeedRelease,
  planFollowUps,
  planSyncOnly,
  SHIPCHECK_USER,
} from '../../src/domain/follow-ups.js';
import type { Release } from '../../src/domain/release.js';
import {
  cancel,
  complete,
  makeAuditEvent,
  makeRelease,
  makeTemplate,
  override,
  PHASE,
  STARTER,
  T0,
  TICKER,
  tickPhases,
} from './factories.js';

const SETTINGS = { checkinEscalateAfterMs: 2 * 3600_000 };
const WINDOW = { at: T0 + 24 * 3600_000, zone: 'UTC' };
// The tiny template with its Deploy phase marked as the deployment.
const template = makeTemplate();
const deployable = {
  ...template,
  phases: template.phases.map((phase, index) =>
    index === PHASE.deploy ? { ...phase, deployment: true } : phase,
  ),
};

const kinds = (followUps: FollowUp[]) => followUps.map((followUp) => followUp.kind);

describe('planFollowUps', () => {
  it('has a rule for every audit event type, and none of them throws on a bare event', () => {
    const release = makeRelease();
    for (const [index, type] of AUDIT_EVENT_TYPES.entries()) {
      expect(() => planFollowUps([makeAuditEvent(type, index)], release, SETTINGS)).not.toThrow();
    }
  });

  it('asks for one message sync per run of events, first, and none for refusals and reminders alone', () => {
    const release = makeRelease();
    const ticks = [
      makeAuditEvent('ticked', 1, { itemId: 'p0-b', phaseIndex: 0 }),
      makeAuditEvent('ticked', 2, { itemId: 'p0-opt', phaseIndex: 0 }),
    ];
    expect(planFollowUps(ticks, release, SETTINGS)).toEqual([{ kind: 'sync' }]);
    const quiet = [makeAuditEvent('refused', 1), makeAuditEvent('reminder_sent', 2)];
    expect(planFollowUps(quiet, release, SETTINGS)).toEqual([]);
  });

  it('plans reminders and announces a new release as planned, or as scheduled with its window, never as deploying', () => {
    const started = makeAuditEvent('started', 0, { from: 'none', to: 'active' });
    // Even a release whose deployment phase is open from the start is only planned: nothing was ticked.
    const openFromTheStart = makeRelease({
      template: { ...deployable, phases: deployable.phases.slice(PHASE.deploy) },
    });
    for (const release of [makeRelease({ template: deployable }), openFromTheStart]) {
      expect(planFollowUps([started], release, SETTINGS)).toEqual([
        { kind: 'sync' },
        { kind: 'plan-reminders' },
        { kind: 'announce', event: 'planned', occurrence: 0 },
      ]);
    }
    const scheduled = { ...started, windowAt: WINDOW.at, windowZone: 'UTC' };
    expect(
      planFollowUps([scheduled], makeRelease({ template: deployable, window: WINDOW }), SETTINGS),
    ).toEqual([
      { kind: 'sync' },
      { kind: 'plan-reminders' },
      { kind: 'announce', event: 'scheduled', occurrence: 0 },
    ]);
  });

  it('drops a done phase’s reminders, and announces deploying once the deployment phase opens, with or without a window', () => {
    const done = makeAuditEvent('ticked', 3, {
      itemId: 'p0-b',
      phaseIndex: PHASE.prepare,
      phaseState: 'done',
    });
    const opened = tickPhases(makeRelease({ template: deployable }), [PHASE.prepare]);
    for (const release of [opened, { ...opened, window: WINDOW }]) {
      expect(planFollowUps([done], release, SETTINGS)).toEqual([
        { kind: 'sync' },
        { kind: 'drop-phase-reminders', phaseIndex: PHASE.prepare },
        // Left to the first deployment tick while another release holds the environment.
        { kind: 'announce', event: 'started', occurrence: 0, unlessEnvHeld: true },
      ]);
    }
    // Still gated (Prepare open): not deploying for the stakeholders yet.
    for (const gated of [
      makeRelease({ template: deployable }),
      makeRelease({ template: deployable, window: WINDOW }),
    ]) {
      expect(kinds(planFollowUps([done], gated, SETTINGS))).not.toContain('announce');
    }
    // No deployment phase: nothing ever deploys, so nothing says so.
    expect(kinds(planFollowUps([done], tickPhases(makeRelease(), [PHASE.prepare]), SETTINGS))).not.toContain(
      'announce',
    );
  });

  it('leaves deploying unsaid for a phase done after the deployment phase: that cannot open it', () => {
    const verified = makeAuditEvent('ticked', 3, {
      itemId: 'p3-a',
      phaseIndex: PHASE.verify,
      phaseState: 'done',
    });
    const release = tickPhases(makeRelease({ template: deployable }), [
      PHASE.prepare,
      PHASE.deploy,
      PHASE.verify,
    ]);
    expect(planFollowUps([verified], release, SETTINGS)).toEqual([
      { kind: 'sync' },
      { kind: 'drop-phase-reminders', phaseIndex: PHASE.verify },
    ]);
  });

  it('announces deploying when an override opens the deployment phase, not when it opens a later one', () => {
    const overridden = (phaseIndex: number) =>
      makeAuditEvent('gate_overridden', 4, { phaseIndex, from: 'locked', to: 'open' });
    const deploymentOpened = override(makeRelease({ template: deployable }), PHASE.deploy);
    expect(planFollowUps([overridden(PHASE.deploy)], deploymentOpened, SETTINGS)).toEqual([
      { kind: 'sync' },
      { kind: 'announce', event: 'started', occurrence: 0, unlessEnvHeld: true },
    ]);
    const verifyOpened = override(makeRelease({ template: deployable }), PHASE.verify);
    expect(kinds(planFollowUps([overridden(PHASE.verify)], verifyOpened, SETTINGS))).not.toContain(
      'announce',
    );
  });

  it('announces deploying at the go call once the phases before it are done, and not at a no-go', () => {
    const withGo = {
      ...deployable,
      phases: deployable.phases.map((phase, index) =>
        index === PHASE.deploy ? { ...phase, go: true } : phase,
      ),
    };
    const ready = tickPhases(makeRelease({ template: withGo }), [PHASE.prepare]);
    const go = makeAuditEvent('go_decided', 5, { from: 'pending', to: 'go' });
    const waiting = makeAuditEvent('ticked', 4, {
      itemId: 'p0-b',
      phaseIndex: PHASE.prepare,
      phaseState: 'done',
    });
    // Prepare done, but the go call is still to come: not deploying.
    expect(kinds(planFollowUps([waiting], ready, SETTINGS))).not.toContain('announce');
    expect(planFollowUps([go], { ...ready, go: { by: STARTER, at: T0 } }, SETTINGS)).toEqual([
      { kind: 'sync' },
      { kind: 'announce', event: 'started', occurrence: 0, unlessEnvHeld: true },
    ]);
    const noGo = makeAuditEvent('go_decided', 5, { from: 'pending', to: 'no_go' });
    expect(kinds(planFollowUps([noGo], cancel(ready, 'Not today'), SETTINGS))).not.toContain('announce');
  });

  it('announces deploying at the first deployment tick, which holds the environment already', () => {
    const locked = makeAuditEvent('locked', 6, { from: 'free', to: 'held', env: 'staging' });
    const release = { ...makeRelease({ template: deployable }), lockedAt: T0 + 6000 };
    for (const subject of [release, { ...release, window: WINDOW }]) {
      expect(planFollowUps([locked], subject, SETTINGS)).toEqual([
        { kind: 'sync' },
        { kind: 'announce', event: 'started', occurrence: 0 },
      ]);
    }
  });

  it('tells each announcement of a whole release once, in the order it happened, with or without a window', () => {
    const flow = (windowAt?: number) => [
      makeAuditEvent('started', 0, { from: 'none', to: 'active', ...(windowAt ? { windowAt } : {}) }),
      makeAuditEvent('ticked', 1, { itemId: 'p0-a', phaseIndex: PHASE.prepare }),
      makeAuditEvent('ticked', 2, { itemId: 'p0-b', phaseIndex: PHASE.prepare, phaseState: 'done' }),
      makeAuditEvent('locked', 3, { from: 'free', to: 'held' }),
      makeAuditEvent('ticked', 4, { itemId: 'p2-a', phaseIndex: PHASE.deploy }),
      makeAuditEvent('ticked', 5, { itemId: 'p2-b', phaseIndex: PHASE.deploy, phaseState: 'done' }),
      makeAuditEvent('deployed', 6, { from: 'pending', to: 'deployed' }),
      makeAuditEvent('ticked', 7, { itemId: 'p3-a', phaseIndex: PHASE.verify, phaseState: 'done' }),
      makeAuditEvent('completed', 8, { from: 'active', to: 'completed' }),
    ];
    const finished = complete({
      ...tickPhases(makeRelease({ template: deployable }), [PHASE.prepare, PHASE.deploy, PHASE.verify]),
      lockedAt: T0 + 3000,
      deployment: { at: T0 + 6000, by: TICKER },
    });
    /** What the channels hear: each (event, occurrence) once, as its deterministic job id makes it. */
    const heard = (followUps: FollowUp[]) => [
      ...new Set(followUps.flatMap((followUp) => (followUp.kind === 'announce' ? [followUp.event] : []))),
    ];
    // Relayed in one batch, or one event at a time (the relay reads the release as it is by then).
    const oneByOne = (events: ReturnType<typeof flow>, release: Release) =>
      events.flatMap((event) => planFollowUps([event], release, SETTINGS));
    expect(heard(planFollowUps(flow(), finished, SETTINGS))).toEqual([
      'planned',
      'started',
      'deployed',
      'completed',
    ]);
    expect(heard(oneByOne(flow(), finished))).toEqual(['planned', 'started', 'deployed', 'completed']);
    const scheduled = { ...finished, window: WINDOW };
    expect(heard(planFollowUps(flow(WINDOW.at), scheduled, SETTINGS))).toEqual([
      'scheduled',
      'started',
      'deployed',
      'completed',
    ]);
  });

  it('names a reopened phase’s new reminder series after the moment it reopened, so a replay plans the same jobs', () => {
    const reopened = makeAuditEvent('unticked', 4, {
      itemId: 'p0-b',
      phaseIndex: PHASE.prepare,
      phaseState: 'reopened',
      from: 'done',
      to: 'open',
    });
    const plan = planFollowUps([reopened], makeRelease(), SETTINGS);
    expect(plan).toEqual([
      { kind: 'sync' },
      { kind: 'plan-reopened-phase', phaseIndex: PHASE.prepare, series: reopened.at },
    ]);
    expect(planFollowUps([reopened], makeRelease(), SETTINGS)).toEqual(plan);
  });

  it('announces a deploy after deploying, with or without a window, and plans its check-ins', () => {
    const deployed = makeAuditEvent('deployed', 5, { from: 'pending', to: 'deployed', checkins: 2 });
    for (const window of [undefined, WINDOW]) {
      expect(planFollowUps([deployed], makeRelease({ template: deployable, window }), SETTINGS)).toEqual([
        { kind: 'sync' },
        { kind: 'announce', event: 'started', occurrence: 0 },
        { kind: 'announce', event: 'deployed', occurrence: 0 },
        { kind: 'plan-checkins' },
      ]);
    }
  });

  it('escalates a posted check-in one escalation interval after it was posted', () => {
    const postedAt = T0 + 3600_000;
    const release: Release = makeRelease({ checkins: [{ index: 0, dueAt: postedAt, postedAt }] });
    const posted = makeAuditEvent('checkin_posted', 6, { checkinIndex: 0, from: 'planned', to: 'posted' });
    expect(planFollowUps([posted], release, SETTINGS)).toContainEqual({
      kind: 'plan-escalation',
      checkinIndex: 0,
      at: postedAt + SETTINGS.checkinEscalateAfterMs,
    });
  });

  it('ends a completed release: no timed jobs, stakeholders told, waiters told, log shared, retrospective drafted', () => {
    const release = complete({ ...makeRelease(), lockedAt: T0 + 1000 });
    const completed = makeAuditEvent('completed', 7, { from: 'active', to: 'completed' });
    expect(kinds(planFollowUps([completed], release, SETTINGS))).toEqual([
      'sync',
      'drop-timed-jobs',
      'announce',
      'tell-lock-waiters',
      'share-final-log',
      'draft-retrospective',
    ]);
  });

  it('confirms a cancellation to the person who made it, but not to shipcheck itself, and tells no waiters when nothing was locked', () => {
    const release = cancel(makeRelease(), 'Vendor outage');
    const byPerson = makeAuditEvent('cancelled', 8, { user: STARTER, from: 'active', to: 'cancelled' });
    expect(planFollowUps([byPerson], release, SETTINGS)).toEqual([
      { kind: 'sync' },
      { kind: 'drop-timed-jobs' },
      { kind: 'announce', event: 'cancelled', occurrence: 0 },
      { kind: 'share-final-log' },
      { kind: 'notice', notice: 'cancelled', userId: STARTER, eventId: byPerson.id },
    ]);
    const byShipcheck = { ...byPerson, user: SHIPCHECK_USER };
    expect(kinds(planFollowUps([byShipcheck], release, SETTINGS))).not.toContain('notice');
  });

  it('shares a new version of the log with each retrospective saved after the release ended', () => {
    const saved = makeAuditEvent('retro_saved', 9, { from: 'none', to: 'saved' });
    const savedAgain = makeAuditEvent('retro_saved', 10, { from: 'saved', to: 'saved' });
    for (const ended of [complete(makeRelease()), cancel(makeRelease(), 'Vendor outage')]) {
      expect(planFollowUps([saved, savedAgain], ended, SETTINGS)).toEqual([
        { kind: 'sync' },
        { kind: 'share-retrospective', eventId: saved.id },
        { kind: 'share-log-version', eventId: saved.id },
        { kind: 'share-retrospective', eventId: savedAgain.id },
        { kind: 'share-log-version', eventId: savedAgain.id },
      ]);
    }
    expect(followUpsNeedRelease([saved])).toBe(true);
  });

  it('leaves the log alone for a retrospective on a release that has not ended: no final log exists', () => {
    const saved = makeAuditEvent('retro_saved', 9, { from: 'none', to: 'saved' });
    expect(kinds(planFollowUps([saved], makeRelease(), SETTINGS))).toEqual(['sync', 'share-retrospective']);
    expect(
      kinds(planFollowUps([saved], { ...makeRelease(), status: 'rolling_back' }, SETTINGS)),
    ).not.toContain('share-log-version');
  });

  it('announces each red flag and each issue by its own number', () => {
    const release = makeRelease();
    const plan = planFollowUps(
      [
        makeAuditEvent('red_flag_raised', 1, { redFlagNumber: 2 }),
        makeAuditEvent('red_flag_cleared', 2, { redFlagNumber: 2 }),
        makeAuditEvent('issue_found', 3, { issueId: 4 }),
      ],
      release,
      SETTINGS,
    );
    expect(plan.filter((followUp) => followUp.kind === 'announce')).toEqual([
      { kind: 'announce', event: 'red_flag', occurrence: 2 },
      { kind: 'announce', event: 'red_flag_cleared', occurrence: 2 },
      { kind: 'announce', event: 'issue_found', occurrence: 4 },
    ]);
  });

  it('replans the reminders of a moved window after dropping the old series', () => {
    const moved = makeAuditEvent('rescheduled', 9, { windowAt: WINDOW.at });
    expect(kinds(planFollowUps([moved], makeRelease({ window: WINDOW }), SETTINGS))).toEqual([
      'sync',
      'drop-reminders',
      'plan-reminders',
    ]);
  });

  it('needs the release’s state only where a rule reads it, and plans the same without it elsewhere', () => {
    const plain = [
      makeAuditEvent('ticked', 1, { itemId: 'p0-b', phaseIndex: 0 }),
      makeAuditEvent('unticked', 2, { itemId: 'p0-b', phaseIndex: 0, from: 'done', to: 'open' }),
      makeAuditEvent('assigned', 3, { itemId: 'p0-b' }),
      makeAuditEvent('checkin_answered', 5, { checkinIndex: 0 }),
      makeAuditEvent('checkin_escalated', 6, { checkinIndex: 0 }),
      makeAuditEvent('criterion_recorded', 6, { checkinIndex: 0, criterionId: 'error-rate' }),
      makeAuditEvent('reminder_sent', 7),
      makeAuditEvent('refused', 8),
      makeAuditEvent('deployment_reported', 8, { user: 'pipeline:ci', from: 'none', to: 'started' }),
    ];
    expect(followUpsNeedRelease(plain)).toBe(false);
    // Whatever state the release is in, these events plan the sync and nothing else.
    for (const release of [makeRelease(), complete(makeRelease()), makeRelease({ window: WINDOW })]) {
      for (const event of plain) {
        expect(planFollowUps([event], release, SETTINGS)).toEqual(planSyncOnly([event]));
      }
      expect(planFollowUps(plain, release, SETTINGS)).toEqual(planSyncOnly(plain));
    }
    const phaseDone = makeAuditEvent('ticked', 9, { itemId: 'p0-b', phaseIndex: 0, phaseState: 'done' });
    expect(followUpsNeedRelease([...plain, phaseDone])).toBe(true);
    for (const type of AUDIT_EVENT_TYPES.filter(
      (candidate) => !plain.some((event) => event.type === candidate),
    )) {
      expect(followUpsNeedRelease([makeAuditEvent(type, 10)]), type).toBe(true);
    }
  });
});
