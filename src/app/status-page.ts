import type { Config } from '../config/env.js';
import { computeDeliveryTrends } from '../domain/delivery-trends.js';
import { buildDeploymentLog } from '../domain/deployment-log.js';
import { measurePhases } from '../domain/stats.js';
import { buildStatusBoard, type PeopleNames, type StatusPage } from '../domain/status-board.js';
import type { ReleaseStore } from '../store/release-store.js';
import type { ReleasePage } from '../views/html/release.js';
import type { StatsPage } from '../views/html/stats.js';
import { readLogEvidence } from './verify-audit.js';

// What the status pages show, read from the record: the board of environments (/status), one
// release's timeline and record (/releases/{id}), and the delivery figures over time (/stats). Each
// is read on demand and nothing is kept: the pages cannot drift from the record.

export interface StatusPageDeps {
  store: ReleaseStore;
  config: Pick<Config, 'environments' | 'freezeWindows' | 'auditKeys'>;
}

/** How many recent releases are searched for what each environment runs. */
const RECENT_RELEASES_SCANNED = 200;
const DAY_MS = 24 * 3600_000;
/** As for `/deploy stats`: a release deployed in the period may have started weeks before it. */
const STATS_LOOKBACK_MS = 60 * DAY_MS;

async function nameThem(
  store: ReleaseStore,
  teamId: string,
  userIds: Iterable<string>,
): Promise<PeopleNames> {
  const ids = [...new Set(userIds)];
  const found = await Promise.all(ids.map((userId) => store.people.cached(teamId, userId)));
  const names = new Map<string, string>();
  ids.forEach((userId, index) => {
    const person = found[index];
    if (person) names.set(userId, person.name);
  });
  return names;
}

export async function readStatusPage(deps: StatusPageDeps, teamId: string, now: number): Promise<StatusPage> {
  const [active, recent, locks] = await Promise.all([
    deps.store.listActive(teamId),
    deps.store.listRecent(teamId, RECENT_RELEASES_SCANNED),
    deps.store.locks.list(teamId),
  ]);
  const board = buildStatusBoard({
    environments: deps.config.environments,
    active,
    recent,
    locks,
    freezeWindows: deps.config.freezeWindows,
    now,
  });
  const people = board.environments.flatMap((env) => [
    ...(env.deployed ? [env.deployed.by] : []),
    ...env.inFlight.map((release) => release.startedBy),
    ...(env.lock ? [env.lock.by] : []),
    ...env.redFlags.map((flag) => flag.by),
  ]);
  return { board, names: await nameThem(deps.store, teamId, people) };
}

/** Release ids as the store makes them (`r12`); anything else names no release. */
export function isReleaseId(text: string): boolean {
  return /^r[1-9][0-9]{0,11}$/.test(text);
}

/**
 * A release's page, or undefined when the workspace has no such release. The Slack header's anchor is
 * not read (a page view must not call Slack): the verification says so.
 */
export async function readReleasePage(
  deps: StatusPageDeps,
  teamId: string,
  releaseId: string,
  now: number,
): Promise<ReleasePage | undefined> {
  if (!isReleaseId(releaseId)) return undefined;
  const release = await deps.store.getRelease(teamId, releaseId);
  if (!release) return undefined;
  const [{ events, evidence }, people, messages] = await Promise.all([
    readLogEvidence(deps.store, deps.config.auditKeys, release, { state: 'not_read' }, now),
    deps.store.people.forRelease(teamId, releaseId),
    deps.store.messages.get(teamId, releaseId),
  ]);
  return {
    release,
    log: buildDeploymentLog(release, events, now, people, evidence),
    phaseSpans: measurePhases(release, events),
    permalink: messages.permalink,
  };
}

export async function readStatsPage(
  deps: StatusPageDeps,
  teamId: string,
  query: { days: number; env: string | undefined },
  now: number,
): Promise<StatsPage> {
  const from = now - query.days * DAY_MS;
  const releases = await deps.store.releasesStartedBetween(teamId, from - STATS_LOOKBACK_MS, now);
  const records = await Promise.all(
    releases.map(async (release) => ({ release, events: await deps.store.readAudit(teamId, release.id) })),
  );
  const trends = computeDeliveryTrends(records, {
    from,
    to: now,
    ...(query.env !== undefined ? { env: query.env } : {}),
  });
  const cutoff = await deps.store.retention.cutoff(teamId);
  return {
    days: query.days,
    env: query.env,
    trends,
    removedBefore: cutoff !== undefined && cutoff > from - STATS_LOOKBACK_MS ? cutoff : undefined,
  };
}
