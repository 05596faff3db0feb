import type { App } from '@slack/bolt';
import { computeDeliveryStats } from '../../domain/stats.js';
import { RoleCheckFailed } from '../access.js';
import type { SlackDeps } from '../deps.js';
import { renderHome } from '../views/home.js';
import { renderDeliveryStats } from '../views/stats-message.js';

// The App Home tab is drawn when its person opens it: what waits on them, the releases in flight
// and recently finished, and the last 30 days' figures. Events are acknowledged by Bolt at once; a
// redelivered event (Slack retries for 5 minutes) is drawn once.

const DAY_MS = 24 * 3600_000;
const STATS_DAYS = 30;

export function registerHome(app: App, deps: SlackDeps): void {
  app.event('app_home_opened', async ({ event, body }) => {
    if (event.tab !== 'home') return;
    const teamId = (body as { team_id?: string }).team_id;
    const eventId = (body as { event_id?: string }).event_id;
    if (!teamId || !eventId) return;
    const log = deps.log.child({ teamId, userId: event.user });
    try {
      if (!(await deps.store.claimEvent(teamId, eventId)))
        return void log.debug({ eventId }, 'home event redelivered');
      const now = Date.now();
      const [active, recent] = await Promise.all([
        deps.store.listActive(teamId),
        deps.store.listRecent(teamId, 20),
      ]);
      const roles = [
        ...new Set(
          active.flatMap((release) =>
            release.template.phases.flatMap((phase) =>
              phase.items.flatMap((item) => (item.role ? [item.role] : [])),
            ),
          ),
        ),
      ];
      const holders = await deps.roles.resolve(roles).catch((err: unknown) => {
        if (!(err instanceof RoleCheckFailed)) throw err;
        return () => undefined;
      });
      const permalinks = new Map<string, string>();
      await Promise.all(
        [...active, ...recent].map(async (release) => {
          const { permalink } = await deps.store.getMessages(teamId, release.id);
          if (permalink) permalinks.set(release.id, permalink);
        }),
      );
      const from = now - STATS_DAYS * DAY_MS;
      const inPeriod = await deps.store.releasesStartedBetween(teamId, from - 60 * DAY_MS, now);
      const records = await Promise.all(
        inPeriod.map(async (release) => ({
          release,
          events: await deps.store.readAudit(teamId, release.id),
        })),
      );
      const stats = renderDeliveryStats(computeDeliveryStats(records, { from, to: now }), now);
      await deps.outbound.publishHome(
        event.user,
        renderHome({
          userId: event.user,
          active,
          recent,
          permalinks,
          holders,
          statsBlocks: stats.blocks,
          now,
        }),
      );
      log.debug('home tab drawn');
    } catch (err) {
      log.error({ err }, 'home tab not drawn');
    }
  });
}
