import { drawHome, loadHomeContext } from '../../app/home.js';
import type { SlackDeps } from '../deps.js';
import type { ListenerApp } from '../router.js';

// The App Home tab is drawn when its person opens it: what waits on them, the releases in flight
// and recently finished, and the last 30 days' figures. Opening it also makes them a viewer whose
// tab the home-refresh job redraws when something on it changes. Events are acknowledged by Bolt at
// once; a redelivered event (Slack retries for 5 minutes) is drawn once.

export function registerHome(app: ListenerApp, deps: SlackDeps): void {
  app.event('app_home_opened', async ({ event, body }) => {
    if (event.tab !== 'home') return;
    const teamId = (body as { team_id?: string }).team_id;
    const eventId = (body as { event_id?: string }).event_id;
    if (!teamId || !eventId) return;
    const log = deps.log.child({ teamId, userId: event.user });
    try {
      if (!(await deps.store.home.claimEvent(teamId, eventId)))
        return void log.debug({ eventId }, 'home event redelivered');
      const now = Date.now();
      const home = drawHome(await loadHomeContext(deps, teamId, now), event.user, now);
      await deps.outbound.publishHome(event.user, home.view);
      await deps.store.home.noteDrawn(teamId, event.user, now, home.rendered);
      log.debug('home tab drawn');
    } catch (err) {
      log.error({ err }, 'home tab not drawn');
    }
  });
}
