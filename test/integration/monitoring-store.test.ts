import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { AuditEvent, AuditEventType } from '../../src/domain/audit.js';
import type { CheckInAnswerKind, IssueSeverity, Release } from '../../src/domain/release.js';
import type { Template } from '../../src/domain/template.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';

// Post-deploy monitoring, owners, snoozes and recorded deliveries, against the real Lua scripts.

const TEAM = 'T0001';
const CHANNEL = 'C0DEPLOY';
const PLAN_MS = [1000, 2000];

const template: Template = {
  id: 'deploying',
  name: 'With a deploy',
  phases: [
    { id: 'prepare', name: 'Prepare', items: [{ id: 'p1', text: 'Prepare one', required: true }] },
    {
      id: 'deploy',
      name: 'Deploy',
      deployment: true,
      items: [
        { id: 'd1', text: 'Deploy one', required: true },
        { id: 'd2', text: 'Deploy two', required: true },
        { id: 'd3', text: 'Deploy extra', required: false },
      ],
    },
    { id: 'after', name: 'After', items: [{ id: 'a1', text: 'After one', required: true }] },
  ],
};

/** The same phases with no deployment phase. */
const plainTemplate: Template = {
  ...template,
  id: 'plain',
  phases: template.phases.map(({ deployment: _deployment, ...phase }) => phase),
};

let redis: Redis;
let store: ReleaseStore;
let prefix: string;
let requestCounter = 0;
const nextRequest = (label: string) => `${label}-${++requestCounter}`;

beforeAll(() => {
  redis = new Redis(TEST_REDIS_URL);
});
afterAll(async () => {
  await redis.quit();
});
beforeEach(() => {
  prefix = createTestPrefix('monitoring');
  store = new ReleaseStore(redis, prefix);
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

async function start(
  options: { template?: Template; checkinPlanMs?: number[]; version?: string; env?: string } = {},
): Promise<string> {
  const result = await store.startRelease({
    teamId: TEAM,
    channelId: CHANNEL,
    version: options.version ?? 'v5.0',
    env: options.env ?? 'production',
    template: options.template ?? template,
    userId: 'U0ALICE',
    ...('checkinPlanMs' in options ? { checkinPlanMs: options.checkinPlanMs } : { checkinPlanMs: PLAN_MS }),
    requestId: nextRequest('start'),
  });
  expect(result.kind).toBe('created');
  return result.releaseId;
}

function tick(releaseId: string, itemId: string, done = true, userId = 'U0BOB', requestId?: string) {
  return store.setItem({
    teamId: TEAM,
    releaseId,
    itemId,
    done,
    userId,
    requestId: requestId ?? nextRequest('click'),
  });
}

/** Ticks the first phase and the deployment phase's required items; resolves with the last tick's result. */
async function deploy(releaseId: string, userId = 'U0BOB') {
  expect((await tick(releaseId, 'p1', true, userId)).kind).toBe('applied');
  expect((await tick(releaseId, 'd1', true, userId)).kind).toBe('applied');
  return tick(releaseId, 'd2', true, userId);
}

/** Records a check-in as posted, the way src/jobs/checkins.ts does through deliverOnce. */
function markPosted(releaseId: string, index: number, postedAt = Date.now()) {
  const ts = `1700000000.00${String(index).padStart(4, '0')}`;
  return store.deliveries.commit({
    teamId: TEAM,
    releaseId,
    deliveryKey: `checkin-${releaseId}-k${index}`,
    ts,
    // deliverOnce adds the ts to the patch.
    record: { hash: 'meta', field: `checkin:${index}`, patch: { postedAt, ts } },
    audit: [{ type: 'checkin_posted', user: 'shipcheck', from: 'planned', to: 'posted', checkin: index }],
  });
}

function answer(
  releaseId: string,
  checkinIndex: number,
  kind: CheckInAnswerKind,
  options: { userId?: string; note?: string; severity?: IssueSeverity; requestId?: string } = {},
) {
  return store.answerCheckin({
    teamId: TEAM,
    releaseId,
    checkinIndex,
    answer: kind,
    userId: options.userId ?? 'U0CAROL',
    ...(options.note !== undefined ? { note: options.note } : {}),
    ...(options.severity ? { severity: options.severity } : {}),
    requestId: options.requestId ?? nextRequest('answer'),
  });
}

function resolveIssue(releaseId: string, issueId: number, userId = 'U0DAVE', requestId?: string) {
  return store.resolveIssue({
    teamId: TEAM,
    releaseId,
    issueId,
    userId,
    resolution: 'patched the config',
    requestId: requestId ?? nextRequest('resolve'),
  });
}

async function release(releaseId: string): Promise<Release> {
  const found = await store.getRelease(TEAM, releaseId);
  expect(found).toBeDefined();
  return found!;
}

async function audit(releaseId: string): Promise<AuditEvent[]> {
  return store.readAudit(TEAM, releaseId);
}

async function auditTypes(releaseId: string): Promise<AuditEventType[]> {
  return (await audit(releaseId)).map((event) => event.type);
}

async function eventsOf(releaseId: string, type: AuditEventType): Promise<AuditEvent[]> {
  return (await audit(releaseId)).filter((event) => event.type === type);
}

describe('deploying', () => {
  it('marks the release deployed with the last required item of the deployment phase, once, and opens monitoring', async () => {
    const releaseId = await start();
    expect(await tick(releaseId, 'p1')).toEqual({
      kind: 'applied',
      rev: 2,
      completed: false,
      deployed: false,
      phaseDone: true,
      phaseReopened: false,
    });
    expect(await tick(releaseId, 'd1')).toMatchObject({ kind: 'applied', deployed: false, phaseDone: false });
    const before = Date.now();
    const deployed = await tick(releaseId, 'd2', true, 'U0DEPLOYER');
    const after = Date.now();
    expect(deployed).toEqual({
      kind: 'applied',
      rev: 4,
      completed: false,
      deployed: true,
      phaseDone: true,
      phaseReopened: false,
    });

    const state = await release(releaseId);
    expect(state.status).toBe('active');
    expect(state.deployment).toEqual({ at: expect.any(Number), by: 'U0DEPLOYER' });
    const deployedAt = state.deployment!.at;
    expect(deployedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(deployedAt).toBeLessThanOrEqual(after + 1000);
    // The tick and the deploy happen in the same script, at the same moment.
    expect(deployedAt).toBe(state.items.d2!.at);
    expect(state.monitoring).toEqual({ state: 'open' });
    expect(state.checkins).toEqual([
      { index: 0, dueAt: deployedAt + 1000 },
      { index: 1, dueAt: deployedAt + 2000 },
    ]);
    expect(state.issues).toEqual([]);

    const deployedEvents = await eventsOf(releaseId, 'deployed');
    expect(deployedEvents).toHaveLength(1);
    expect(deployedEvents[0]).toMatchObject({
      user: 'U0DEPLOYER',
      at: deployedAt,
      phaseIndex: 1,
      from: 'pending',
      to: 'deployed',
      checkins: 2,
    });
    // The first tick in the deployment phase takes the environment's lock.
    expect(await auditTypes(releaseId)).toEqual([
      'started',
      'ticked',
      'locked',
      'ticked',
      'ticked',
      'deployed',
    ]);
  });

  it('does not deploy again when the deployment phase is unticked and ticked again', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    const first = await release(releaseId);

    expect(await tick(releaseId, 'd2', false)).toMatchObject({
      kind: 'applied',
      deployed: false,
      phaseDone: false,
      phaseReopened: true,
    });
    expect(await tick(releaseId, 'd2', true, 'U0SOMEONE')).toMatchObject({
      kind: 'applied',
      deployed: false,
      phaseDone: true,
      phaseReopened: false,
    });
    // The optional item does not count either.
    expect(await tick(releaseId, 'd3', true)).toMatchObject({
      kind: 'applied',
      deployed: false,
      phaseDone: false,
    });

    const second = await release(releaseId);
    expect(second.deployment).toEqual(first.deployment);
    expect(second.checkins).toEqual(first.checkins);
    expect(second.monitoring).toEqual({ state: 'open' });
    expect(await eventsOf(releaseId, 'deployed')).toHaveLength(1);
  });

  it('never deploys a release whose template has no deployment phase', async () => {
    const releaseId = await start({ template: plainTemplate });
    const results = [
      await tick(releaseId, 'p1'),
      await tick(releaseId, 'd1'),
      await tick(releaseId, 'd2'),
      await tick(releaseId, 'd3'),
    ];
    expect(results.every((result) => result.kind === 'applied' && result.deployed === false)).toBe(true);
    let state = await release(releaseId);
    expect(state.deployment).toBeUndefined();
    expect(state.monitoring).toBeUndefined();
    expect(state.checkins).toEqual([]);
    // Without a monitoring window the last required item completes the release.
    expect(await tick(releaseId, 'a1')).toMatchObject({ kind: 'applied', completed: true, deployed: false });
    state = await release(releaseId);
    expect(state.status).toBe('completed');
    expect(await eventsOf(releaseId, 'deployed')).toEqual([]);
  });

  it('deploys without opening monitoring when no check-ins are planned, and then completes normally', async () => {
    const releaseId = await start({ checkinPlanMs: [] });
    expect(await deploy(releaseId)).toMatchObject({ kind: 'applied', deployed: true, completed: false });
    const state = await release(releaseId);
    expect(state.deployment).toMatchObject({ by: 'U0BOB' });
    expect(state.monitoring).toBeUndefined();
    expect(state.checkins).toEqual([]);
    expect(await eventsOf(releaseId, 'deployed')).toEqual([expect.objectContaining({ checkins: 0 })]);

    expect(await tick(releaseId, 'a1')).toMatchObject({ kind: 'applied', completed: true });
    expect((await release(releaseId)).status).toBe('completed');
  });
});

describe('completion waits for monitoring', () => {
  it('keeps the release active while monitoring is open, and completes it with the healthy last check-in', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    expect(await tick(releaseId, 'a1')).toMatchObject({ kind: 'applied', completed: false, phaseDone: true });
    let state = await release(releaseId);
    expect(state.status).toBe('active');
    expect(state.finishedAt).toBeUndefined();
    expect((await store.listActive(TEAM)).map((active) => active.id)).toEqual([releaseId]);

    await markPosted(releaseId, 0);
    await markPosted(releaseId, 1);
    expect(await answer(releaseId, 0, 'healthy')).toMatchObject({
      kind: 'applied',
      completed: false,
      monitoringClosed: false,
    });
    expect((await release(releaseId)).status).toBe('active');

    const closing = await answer(releaseId, 1, 'healthy', { userId: 'U0ERIN' });
    expect(closing).toMatchObject({ kind: 'applied', completed: true, monitoringClosed: true });
    expect(closing).not.toHaveProperty('issueId');

    state = await release(releaseId);
    expect(state.status).toBe('completed');
    expect(state.finishedBy).toBe('U0ERIN');
    expect(state.monitoring).toEqual({ state: 'closed', closedAt: expect.any(Number) });
    expect(state.checkins[1]!.answer).toEqual({
      kind: 'healthy',
      by: 'U0ERIN',
      at: state.monitoring!.closedAt,
    });
    expect(await store.listActive(TEAM)).toEqual([]);

    const events = await audit(releaseId);
    const tail = events.slice(-3);
    expect(tail.map((event) => event.type)).toEqual(['checkin_answered', 'monitoring_closed', 'completed']);
    expect(tail[0]).toMatchObject({ user: 'U0ERIN', checkinIndex: 1, from: 'posted', to: 'healthy' });
    expect(tail[1]).toMatchObject({ user: 'U0ERIN', from: 'open', to: 'closed' });
    expect(tail[2]).toMatchObject({ user: 'U0ERIN', from: 'active', to: 'completed' });
    expect(events.filter((event) => event.type === 'completed')).toHaveLength(1);
  });

  it('closes monitoring before the checklist is done, and completes with the last required item', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    await markPosted(releaseId, 1);
    expect(await answer(releaseId, 1, 'healthy')).toMatchObject({
      kind: 'applied',
      completed: false,
      monitoringClosed: true,
    });
    expect((await release(releaseId)).status).toBe('active');
    expect(await eventsOf(releaseId, 'completed')).toEqual([]);
    expect(await tick(releaseId, 'a1')).toMatchObject({ kind: 'applied', completed: true });
    expect((await release(releaseId)).status).toBe('completed');
  });
});

describe('answering check-ins', () => {
  it('records a healthy answer with its audit event', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    await markPosted(releaseId, 0, 12345);
    const before = await release(releaseId);
    const result = await answer(releaseId, 0, 'healthy', { userId: 'U0CAROL' });
    expect(result).toEqual({
      kind: 'applied',
      rev: before.rev + 1,
      completed: false,
      monitoringClosed: false,
    });
    const after = await release(releaseId);
    expect(after.checkins[0]).toMatchObject({
      index: 0,
      postedAt: 12345,
      ts: '1700000000.000000',
      answer: { kind: 'healthy', by: 'U0CAROL', at: expect.any(Number) },
    });
    expect(after.monitoring).toEqual({ state: 'open' });
    expect((await audit(releaseId)).at(-1)).toMatchObject({
      type: 'checkin_answered',
      user: 'U0CAROL',
      checkinIndex: 0,
      from: 'posted',
      to: 'healthy',
    });
  });

  it('refuses a check-in that was not posted, or does not exist', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    const auditLength = (await audit(releaseId)).length;
    expect(await answer(releaseId, 0, 'healthy')).toEqual({ kind: 'unknown_checkin' });
    expect(await answer(releaseId, 7, 'healthy')).toEqual({ kind: 'unknown_checkin' });
    expect((await release(releaseId)).checkins[0]!.answer).toBeUndefined();
    expect(await audit(releaseId)).toHaveLength(auditLength);
  });

  it('refuses a check-in before the deploy', async () => {
    const releaseId = await start();
    expect(await answer(releaseId, 0, 'healthy')).toEqual({ kind: 'unknown_checkin' });
  });

  it('refuses a second answer, naming the first answer and who gave it', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    await markPosted(releaseId, 0);
    await answer(releaseId, 0, 'healthy', { userId: 'U0CAROL' });
    const auditLength = (await audit(releaseId)).length;
    expect(
      await answer(releaseId, 0, 'issue', { userId: 'U0DAVE', note: 'late', severity: 'minor' }),
    ).toEqual({
      kind: 'checkin_answered',
      answer: 'healthy',
      by: 'U0CAROL',
    });
    const state = await release(releaseId);
    expect(state.checkins[0]!.answer).toMatchObject({ kind: 'healthy', by: 'U0CAROL' });
    expect(state.issues).toEqual([]);
    expect(await audit(releaseId)).toHaveLength(auditLength);
  });

  it('applies a retried answer once', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    await markPosted(releaseId, 0);
    await markPosted(releaseId, 1);
    expect((await answer(releaseId, 0, 'healthy', { requestId: 'same-answer' })).kind).toBe('applied');
    // Same request id, even for another check-in: the request was applied already.
    expect(await answer(releaseId, 1, 'healthy', { requestId: 'same-answer' })).toEqual({ kind: 'replayed' });
    expect((await release(releaseId)).checkins[1]!.answer).toBeUndefined();
    expect(await eventsOf(releaseId, 'checkin_answered')).toHaveLength(1);
  });

  it('refuses answers once the release is closed', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    await markPosted(releaseId, 0);
    await store.cancelRelease({
      teamId: TEAM,
      releaseId,
      userId: 'U0ALICE',
      reason: 'abandoned',
      requestId: nextRequest('cancel'),
    });
    expect(await answer(releaseId, 0, 'healthy')).toEqual({ kind: 'closed', status: 'cancelled' });
    expect(await eventsOf(releaseId, 'checkin_answered')).toEqual([]);
  });

  it('refuses an answer once the monitoring window is closed but the release is still active', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    await markPosted(releaseId, 0);
    await markPosted(releaseId, 1);
    expect(await answer(releaseId, 1, 'healthy')).toMatchObject({ monitoringClosed: true, completed: false });
    expect(await answer(releaseId, 0, 'healthy')).toEqual({ kind: 'monitoring_closed' });
  });

  it('refuses an unknown release', async () => {
    await start();
    expect(await answer('r999', 0, 'healthy')).toEqual({ kind: 'not_found' });
  });
});

describe('issues', () => {
  it('does not close on a healthy non-last check-in', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    await markPosted(releaseId, 0);
    expect(await answer(releaseId, 0, 'healthy')).toMatchObject({
      monitoringClosed: false,
      completed: false,
    });
    expect((await release(releaseId)).monitoring).toEqual({ state: 'open' });
    expect(await eventsOf(releaseId, 'monitoring_closed')).toEqual([]);
  });

  it('opens an issue that keeps the window open until it is resolved', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    await tick(releaseId, 'a1');
    await markPosted(releaseId, 0);
    const found = await answer(releaseId, 0, 'issue', {
      userId: 'U0CAROL',
      note: 'error rate doubled',
      severity: 'major',
    });
    expect(found).toMatchObject({ kind: 'applied', completed: false, monitoringClosed: false, issueId: 1 });

    let state = await release(releaseId);
    expect(state.issues).toEqual([
      {
        id: 1,
        foundBy: 'U0CAROL',
        foundAt: expect.any(Number),
        what: 'error rate doubled',
        severity: 'major',
        checkin: 0,
      },
    ]);
    expect(state.checkins[0]!.answer).toMatchObject({ kind: 'issue', by: 'U0CAROL', issue: 1 });
    const issueEvents = (await audit(releaseId)).slice(-2);
    expect(issueEvents.map((event) => event.type)).toEqual(['checkin_answered', 'issue_found']);
    expect(issueEvents[0]).toMatchObject({ checkinIndex: 0, from: 'posted', to: 'issue' });
    expect(issueEvents[1]).toMatchObject({
      user: 'U0CAROL',
      checkinIndex: 0,
      issueId: 1,
      from: 'none',
      to: 'open',
      reason: 'error rate doubled',
      severity: 'major',
    });

    // The last check-in answered healthy does not close the window while the issue is open.
    await markPosted(releaseId, 1);
    expect(await answer(releaseId, 1, 'healthy')).toMatchObject({
      kind: 'applied',
      completed: false,
      monitoringClosed: false,
    });
    state = await release(releaseId);
    expect(state.status).toBe('active');
    expect(state.monitoring).toEqual({ state: 'open' });

    // Resolving it, with the last check-in already healthy, closes the window (and completes).
    const resolved = await resolveIssue(releaseId, 1, 'U0DAVE');
    expect(resolved).toMatchObject({ kind: 'applied', monitoringClosed: true, completed: true });
    expect(resolved).not.toHaveProperty('followUpCheckin');
    state = await release(releaseId);
    expect(state.status).toBe('completed');
    expect(state.monitoring).toMatchObject({ state: 'closed' });
    expect(state.issues[0]).toMatchObject({
      resolvedBy: 'U0DAVE',
      resolvedAt: expect.any(Number),
      resolution: 'patched the config',
    });
    expect(state.checkins).toHaveLength(2);
    const tail = (await audit(releaseId)).slice(-3);
    expect(tail.map((event) => event.type)).toEqual(['issue_resolved', 'monitoring_closed', 'completed']);
    expect(tail[0]).toMatchObject({
      user: 'U0DAVE',
      issueId: 1,
      from: 'open',
      to: 'resolved',
      reason: 'patched the config',
    });
    expect(tail[0]!.checkinIndex).toBeUndefined();
  });

  it('plans a follow-up check-in when the issue was found at the last check-in, and its healthy answer closes', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    await markPosted(releaseId, 0);
    await markPosted(releaseId, 1);
    await answer(releaseId, 0, 'healthy');
    expect(
      await answer(releaseId, 1, 'issue', { note: 'slow checkout', severity: 'critical' }),
    ).toMatchObject({
      kind: 'applied',
      issueId: 1,
      monitoringClosed: false,
    });

    const before = Date.now();
    const resolved = await resolveIssue(releaseId, 1);
    expect(resolved).toMatchObject({
      kind: 'applied',
      completed: false,
      monitoringClosed: false,
      followUpCheckin: 2,
    });
    let state = await release(releaseId);
    expect(state.monitoring).toEqual({ state: 'open' });
    expect(state.checkins).toHaveLength(3);
    expect(state.checkins[2]).toEqual({ index: 2, dueAt: expect.any(Number), followUp: true });
    expect(state.checkins[2]!.dueAt).toBeGreaterThanOrEqual(before - 1000);
    expect((await audit(releaseId)).at(-1)).toMatchObject({
      type: 'issue_resolved',
      issueId: 1,
      checkinIndex: 2,
    });

    // The follow-up is not posted yet.
    expect(await answer(releaseId, 2, 'healthy')).toEqual({ kind: 'unknown_checkin' });
    await markPosted(releaseId, 2);
    // The old, answered last check-in cannot be answered again.
    expect((await answer(releaseId, 1, 'healthy')).kind).toBe('checkin_answered');
    await tick(releaseId, 'a1');
    expect(await answer(releaseId, 2, 'healthy')).toMatchObject({
      kind: 'applied',
      monitoringClosed: true,
      completed: true,
    });
    state = await release(releaseId);
    expect(state.status).toBe('completed');
    expect(state.checkins[2]).toMatchObject({ followUp: true, answer: { kind: 'healthy' } });
    expect(await eventsOf(releaseId, 'monitoring_closed')).toHaveLength(1);
  });

  it('plans another follow-up when the follow-up finds an issue too', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    await markPosted(releaseId, 1);
    await answer(releaseId, 1, 'issue', { note: 'one', severity: 'minor' });
    expect(await resolveIssue(releaseId, 1)).toMatchObject({ followUpCheckin: 2 });
    await markPosted(releaseId, 2);
    expect(await answer(releaseId, 2, 'issue', { note: 'two', severity: 'minor' })).toMatchObject({
      issueId: 2,
    });
    expect(await resolveIssue(releaseId, 2)).toMatchObject({ followUpCheckin: 3, monitoringClosed: false });
    const state = await release(releaseId);
    expect(state.checkins.map((checkin) => checkin.index)).toEqual([0, 1, 2, 3]);
    expect(state.issues.map((issue) => [issue.id, issue.checkin])).toEqual([
      [1, 1],
      [2, 2],
    ]);
  });

  it('neither closes nor plans a follow-up while the last check-in is unanswered', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    await markPosted(releaseId, 0);
    await answer(releaseId, 0, 'issue', { note: 'blip', severity: 'minor' });
    const resolved = await resolveIssue(releaseId, 1);
    expect(resolved).toMatchObject({ kind: 'applied', monitoringClosed: false, completed: false });
    expect(resolved).not.toHaveProperty('followUpCheckin');
    expect((await release(releaseId)).checkins).toHaveLength(2);
  });

  it('refuses resolving an issue twice, or one that does not exist', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    await markPosted(releaseId, 0);
    await answer(releaseId, 0, 'issue', { note: 'blip', severity: 'minor' });
    expect((await resolveIssue(releaseId, 1, 'U0DAVE')).kind).toBe('applied');
    const auditLength = (await audit(releaseId)).length;
    expect(await resolveIssue(releaseId, 1, 'U0ERIN')).toEqual({ kind: 'issue_resolved', by: 'U0DAVE' });
    expect(await resolveIssue(releaseId, 2)).toEqual({ kind: 'unknown_issue' });
    expect(await audit(releaseId)).toHaveLength(auditLength);
    expect((await release(releaseId)).issues[0]!.resolvedBy).toBe('U0DAVE');
  });

  it('applies a retried resolution once', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    await markPosted(releaseId, 0);
    await answer(releaseId, 0, 'issue', { note: 'blip', severity: 'minor' });
    expect((await resolveIssue(releaseId, 1, 'U0DAVE', 'same-resolve')).kind).toBe('applied');
    expect(await resolveIssue(releaseId, 1, 'U0DAVE', 'same-resolve')).toEqual({ kind: 'replayed' });
  });
});

describe('rolling back', () => {
  it('ends the release as rolled back, with the reason, and frees its version and environment', async () => {
    const releaseId = await start({ version: 'v7.1', env: 'production' });
    await deploy(releaseId);
    await markPosted(releaseId, 0);
    const result = await answer(releaseId, 0, 'rollback', { userId: 'U0CAROL', note: 'payments failing' });
    // Without a rollback checklist in the template, the release is rolled back at once.
    expect(result).toMatchObject({ kind: 'applied', completed: true });
    expect(result).not.toHaveProperty('issueId');

    const state = await release(releaseId);
    expect(state.status).toBe('rolled_back');
    expect(state.cancelReason).toBe('payments failing');
    expect(state.finishedBy).toBe('U0CAROL');
    expect(state.finishedAt).toEqual(expect.any(Number));
    expect(state.monitoring).toMatchObject({ state: 'closed' });
    expect(state.checkins[0]!.answer).toMatchObject({ kind: 'rollback', by: 'U0CAROL' });
    expect(await store.listActive(TEAM)).toEqual([]);

    const tail = (await audit(releaseId)).slice(-2);
    expect(tail.map((event) => event.type)).toEqual(['checkin_answered', 'rolled_back']);
    expect(tail[1]).toMatchObject({
      user: 'U0CAROL',
      from: 'active',
      to: 'rolled_back',
      reason: 'payments failing',
    });

    // The same version may be released again in the same environment.
    const again = await store.startRelease({
      teamId: TEAM,
      channelId: CHANNEL,
      version: 'v7.1',
      env: 'production',
      template,
      userId: 'U0ALICE',
      checkinPlanMs: PLAN_MS,
      requestId: nextRequest('start'),
    });
    expect(again.kind).toBe('created');
    expect(again.releaseId).not.toBe(releaseId);

    // The rolled-back release takes no more changes.
    expect(await tick(releaseId, 'a1')).toEqual({ kind: 'closed', status: 'rolled_back' });
    expect(await answer(releaseId, 1, 'healthy')).toEqual({ kind: 'closed', status: 'rolled_back' });
  });
});

describe('owners', () => {
  function assign(
    releaseId: string,
    owners: { itemId: string; ownerId: string | undefined }[],
    requestId?: string,
  ) {
    return store.assignOwners({
      teamId: TEAM,
      releaseId,
      userId: 'U0LEAD',
      owners,
      requestId: requestId ?? nextRequest('assign'),
    });
  }

  it('sets, changes and clears owners, one audit event per change', async () => {
    const releaseId = await start();
    const set = await assign(releaseId, [
      { itemId: 'd1', ownerId: 'U0CAROL' },
      { itemId: 'a1', ownerId: 'U0DAVE' },
    ]);
    expect(set).toMatchObject({ kind: 'applied', rev: 2 });
    expect((await release(releaseId)).owners).toEqual({ d1: 'U0CAROL', a1: 'U0DAVE' });
    expect(await eventsOf(releaseId, 'assigned')).toEqual([
      expect.objectContaining({ user: 'U0LEAD', itemId: 'd1', phaseIndex: 1, from: 'none', to: 'U0CAROL' }),
      expect.objectContaining({ user: 'U0LEAD', itemId: 'a1', phaseIndex: 2, from: 'none', to: 'U0DAVE' }),
    ]);

    const changed = await assign(releaseId, [
      { itemId: 'd1', ownerId: 'U0ERIN' },
      { itemId: 'a1', ownerId: undefined },
    ]);
    expect(changed).toMatchObject({ kind: 'applied', rev: 3 });
    const state = await release(releaseId);
    expect(state.owners).toEqual({ d1: 'U0ERIN' });
    expect(state.rev).toBe(3);
    expect((await eventsOf(releaseId, 'assigned')).slice(2)).toEqual([
      expect.objectContaining({ itemId: 'd1', from: 'U0CAROL', to: 'U0ERIN' }),
      expect.objectContaining({ itemId: 'a1', from: 'U0DAVE', to: 'none' }),
    ]);
  });

  it('writes nothing and keeps the rev when nothing changes', async () => {
    const releaseId = await start();
    await assign(releaseId, [{ itemId: 'd1', ownerId: 'U0CAROL' }]);
    const auditLength = (await audit(releaseId)).length;
    const same = await assign(releaseId, [
      { itemId: 'd1', ownerId: 'U0CAROL' },
      { itemId: 'p1', ownerId: undefined },
    ]);
    expect(same).toMatchObject({ kind: 'applied', rev: 2 });
    expect((await release(releaseId)).rev).toBe(2);
    expect(await audit(releaseId)).toHaveLength(auditLength);
  });

  // Fails: assign-owners-4.lua replies {1, rev, changed} without the `completed` slot that
  // toChangeResult reads second, so `changed` lands in `completed` (true when exactly one item changed)
  // and `changed` is always undefined.
  it('reports how many items changed, and never that the release completed', async () => {
    const releaseId = await start();
    expect(await assign(releaseId, [{ itemId: 'd1', ownerId: 'U0CAROL' }])).toEqual({
      kind: 'applied',
      rev: 2,
      completed: false,
      changed: 1,
    });
    expect(
      await assign(releaseId, [
        { itemId: 'd1', ownerId: 'U0DAVE' },
        { itemId: 'd2', ownerId: 'U0DAVE' },
      ]),
    ).toEqual({ kind: 'applied', rev: 3, completed: false, changed: 2 });
    expect(await assign(releaseId, [{ itemId: 'd2', ownerId: 'U0DAVE' }])).toEqual({
      kind: 'applied',
      rev: 3,
      completed: false,
      changed: 0,
    });
    expect((await release(releaseId)).status).toBe('active');
  });

  it('refuses the whole request when an item is unknown, changing nothing', async () => {
    const releaseId = await start();
    const result = await assign(releaseId, [
      { itemId: 'd1', ownerId: 'U0CAROL' },
      { itemId: 'nope', ownerId: 'U0DAVE' },
    ]);
    expect(result).toEqual({ kind: 'unknown_item' });
    const state = await release(releaseId);
    expect(state.owners).toEqual({});
    expect(state.rev).toBe(1);
    expect(await auditTypes(releaseId)).toEqual(['started']);
  });

  it('applies a retried assignment once', async () => {
    const releaseId = await start();
    expect((await assign(releaseId, [{ itemId: 'd1', ownerId: 'U0CAROL' }], 'same-assign')).kind).toBe(
      'applied',
    );
    expect(await assign(releaseId, [{ itemId: 'd1', ownerId: 'U0DAVE' }], 'same-assign')).toEqual({
      kind: 'replayed',
    });
    expect((await release(releaseId)).owners).toEqual({ d1: 'U0CAROL' });
    expect(await eventsOf(releaseId, 'assigned')).toHaveLength(1);
  });

  it('refuses a closed release', async () => {
    const releaseId = await start();
    await store.cancelRelease({ teamId: TEAM, releaseId, userId: 'U0ALICE', reason: 'x', requestId: 'c' });
    expect(await assign(releaseId, [{ itemId: 'd1', ownerId: 'U0CAROL' }])).toEqual({
      kind: 'closed',
      status: 'cancelled',
    });
  });
});

describe('snoozing reminders', () => {
  it('records until when a person is snoozed for a phase, with its audit event', async () => {
    const releaseId = await start();
    const until = Date.now() + 3_600_000;
    const result = await store.snoozeReminders({
      teamId: TEAM,
      releaseId,
      phaseIndex: 1,
      userId: 'U0BOB',
      until,
      requestId: nextRequest('snooze'),
    });
    expect(result).toEqual({ kind: 'applied', rev: 2, completed: false });
    const state = await release(releaseId);
    expect(state.snoozes).toEqual({ '1:U0BOB': until });
    expect(state.rev).toBe(2);
    expect(await eventsOf(releaseId, 'reminder_snoozed')).toEqual([
      expect.objectContaining({ user: 'U0BOB', phaseIndex: 1, from: 'none', to: String(until) }),
    ]);

    // Snoozing again moves the end, and the event names the previous one.
    const later = until + 60_000;
    await store.snoozeReminders({
      teamId: TEAM,
      releaseId,
      phaseIndex: 1,
      userId: 'U0BOB',
      until: later,
      requestId: nextRequest('snooze'),
    });
    expect((await release(releaseId)).snoozes).toEqual({ '1:U0BOB': later });
    expect((await eventsOf(releaseId, 'reminder_snoozed')).at(-1)).toMatchObject({
      from: String(until),
      to: String(later),
    });
  });

  it('applies a retried snooze once', async () => {
    const releaseId = await start();
    const snooze = (until: number) =>
      store.snoozeReminders({
        teamId: TEAM,
        releaseId,
        phaseIndex: 0,
        userId: 'U0BOB',
        until,
        requestId: 'same-snooze',
      });
    expect((await snooze(1000)).kind).toBe('applied');
    expect(await snooze(2000)).toEqual({ kind: 'replayed' });
    expect((await release(releaseId)).snoozes).toEqual({ '0:U0BOB': 1000 });
  });
});

describe('recording deliveries', () => {
  it('records the first ts with its field patch and audit events, and ignores a later one', async () => {
    const releaseId = await start();
    await deploy(releaseId);
    const { dueAt } = (await release(releaseId)).checkins[0]!;
    const auditLength = (await audit(releaseId)).length;
    const revBefore = (await release(releaseId)).rev;

    const first = await store.deliveries.commit({
      teamId: TEAM,
      releaseId,
      deliveryKey: 'checkin-k0',
      ts: '1700000000.000100',
      record: { hash: 'meta', field: 'checkin:0', patch: { postedAt: 4242, ts: '1700000000.000100' } },
      audit: [{ type: 'checkin_posted', user: 'shipcheck', from: 'planned', to: 'posted', checkin: 0 }],
    });
    expect(first).toBe('1700000000.000100');
    expect(await store.deliveries.doneTs(TEAM, 'checkin-k0')).toBe('1700000000.000100');
    let state = await release(releaseId);
    expect(state.checkins[0]).toEqual({ index: 0, dueAt, postedAt: 4242, ts: '1700000000.000100' });
    expect(state.rev).toBe(revBefore);
    const events = await audit(releaseId);
    expect(events).toHaveLength(auditLength + 1);
    expect(events.at(-1)).toMatchObject({
      type: 'checkin_posted',
      user: 'shipcheck',
      from: 'planned',
      to: 'posted',
      checkinIndex: 0,
      at: expect.any(Number),
    });

    const second = await store.deliveries.commit({
      teamId: TEAM,
      releaseId,
      deliveryKey: 'checkin-k0',
      ts: '1700000000.000999',
      record: { hash: 'meta', field: 'checkin:0', patch: { postedAt: 9999, ts: '1700000000.000999' } },
      audit: [{ type: 'checkin_posted', user: 'shipcheck', from: 'planned', to: 'posted', checkin: 0 }],
    });
    expect(second).toBe('1700000000.000100');
    expect(await store.deliveries.doneTs(TEAM, 'checkin-k0')).toBe('1700000000.000100');
    state = await release(releaseId);
    expect(state.checkins[0]).toEqual({ index: 0, dueAt, postedAt: 4242, ts: '1700000000.000100' });
    expect(await audit(releaseId)).toHaveLength(auditLength + 1);
  });

  it('records into the messages hash, or nothing but the marker', async () => {
    const releaseId = await start();
    const ts = await store.deliveries.commit({
      teamId: TEAM,
      releaseId,
      deliveryKey: 'header',
      ts: '1700000000.000200',
      record: { hash: 'messages', field: 'msg:header', patch: { ts: '1700000000.000200', hash: 'h1' } },
    });
    expect(ts).toBe('1700000000.000200');
    expect((await store.messages.get(TEAM, releaseId)).refs.header).toEqual({
      ts: '1700000000.000200',
      hash: 'h1',
    });

    expect(
      await store.deliveries.commit({
        teamId: TEAM,
        releaseId,
        deliveryKey: 'bare',
        ts: '1700000000.000300',
      }),
    ).toBe('1700000000.000300');
    expect(await store.deliveries.doneTs(TEAM, 'bare')).toBe('1700000000.000300');
    expect(await auditTypes(releaseId)).toEqual(['started']);
  });
});
