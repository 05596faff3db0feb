import type { HomeView } from '@slack/types';
import type { RoleHolders } from '../domain/access.js';
import type { Release } from '../domain/release.js';
import { computeDeliveryStats, DEFAULT_STATS_DAYS, type DeliveryStats } from '../domain/stats.js';
import type { ReleaseStore } from '../store/release-store.js';
import { fingerprint } from '../views/fingerprint.js';
import { renderHome } from '../views/home.js';
import { renderDeliveryStats } from '../views/stats-message.js';
import { RoleCheckFailed, type RoleDirectory } from './access.js';

// What every Home tab of a workspace is drawn from, read once and drawn for any number of people:
// the Home listener draws one, a refresh job draws every viewer's from the same read.

const DAY_MS = 24 * 3600_000;
/** Releases that started this long before the figures' period may still finish inside it. */
const STATS_LOOKBACK_MS = 60 * DAY_MS;

export interface HomeContext {
  active: Release[];
  recent: Release[];
  permalinks: Map<string, string>;
  holders: RoleHolders;
  stats: DeliveryStats;
}

export interface DrawnHome {
  view: HomeView;
  /** Changes only when what the person sees changes, not with the "Updated" time. */
  rendered: string;
}

export async function loadHomeContext(
  deps: { store: ReleaseStore; roles: Pick<RoleDirectory, 'resolve'> },
  teamId: string,
  now: number,
): Promise<HomeContext> {
  const { store } = deps;
  const [active, recent] = await Promise.all([store.listActive(teamId), store.listRecent(teamId, 20)]);
  const roles = [
    ...new Set(
      active.flatMap((release) =>
        release.template.phases.flatMap((phase) =>
          phase.items.flatMap((item) => (item.role ? [item.role] : [])),
        ),
      ),
    ),
  ];
  // A role lookup that fails gives role items to the starter, as the reminders do, rather than failing the tab.
  const holders = await deps.roles.resolve(roles).catch((err: unknown) => {
    if (!(err instanceof RoleCheckFailed)) throw err;
    return () => undefined;
  });
  const permalinks = new Map<string, string>();
  await Promise.all(
    [...active, ...recent].map(async (release) => {
      const { permalink } = await store.messages.get(teamId, release.id);
      if (permalink) permalinks.set(release.id, permalink);
    }),
  );
  const from = now - DEFAULT_STATS_DAYS * DAY_MS;
  const inPeriod = await store.releasesStartedBetween(teamId, from - STATS_LOOKBACK_MS, now);
  const records = await Promise.all(
    inPeriod.map(async (release) => ({ release, events: await store.readAudit(teamId, release.id) })),
  );
  return {
    active,
    recent,
    permalinks,
    holders,
    stats: computeDeliveryStats(records, { from, to: now }),
  };
}

export function drawHome(context: HomeContext, userId: string, now: number): DrawnHome {
  const draw = (stats: DeliveryStats, at: number) =>
    renderHome({
      userId,
      active: context.active,
      recent: context.recent,
      permalinks: context.permalinks,
      holders: context.holders,
      statsBlocks: renderDeliveryStats(stats, at).blocks,
      now: at,
    });
  // Drawn again with the clock and the figures' period pinned, two tabs differ only in what they show.
  const { period } = context.stats;
  const pinned = { ...context.stats, period: { ...period, from: 0, to: period.to - period.from } };
  return {
    view: draw(context.stats, now),
    rendered: fingerprint(JSON.stringify(draw(pinned, 0).blocks)),
  };
}
