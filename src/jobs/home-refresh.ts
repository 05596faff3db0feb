import type { ConnectionOptions, Worker } from 'bullmq';
import type { RoleDirectory } from '../app/access.js';
import { drawHome, loadHomeContext } from '../app/home.js';
import type { Logger } from '../log.js';
import { HOME_QUEUE, HOME_VIEWER_IDLE_MS, HomeRefreshJobData } from '../queues/home-refresh-queue.js';
import { type SlackOutbound, SlackPlatformError } from '../slack-api/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';
import { createInstrumentedWorker, type JobMetrics } from './instrumented-worker.js';

// Keeps open Home tabs current. Every sync of a release asks for a refresh of its workspace
// (src/queues/home-refresh-queue.ts); the refresh reads the workspace once, draws each recent viewer's
// tab and publishes only those whose content changed, spaced by the workspace's Home pacer.

export interface HomeRefreshDeps {
  store: ReleaseStore;
  roles: Pick<RoleDirectory, 'resolve'>;
  outbound: Pick<SlackOutbound, 'refreshHome'>;
  log: Logger;
}

/** Redraws every recent viewer's Home tab whose content changed; resolves with how many were published. */
export async function refreshHomes(deps: HomeRefreshDeps, teamId: string, now = Date.now()): Promise<number> {
  const { store } = deps;
  const viewers = await store.home.viewers(teamId, now - HOME_VIEWER_IDLE_MS);
  if (viewers.size === 0) return 0;
  const context = await loadHomeContext(deps, teamId, now);
  let published = 0;
  for (const [userId, shown] of viewers) {
    const home = drawHome(context, userId, Date.now());
    if (home.rendered === shown) continue;
    try {
      await deps.outbound.refreshHome(teamId, userId, home.view);
    } catch (err) {
      // One person's tab Slack refuses (a deactivated account) must not hold up everyone else's.
      if (!(err instanceof SlackPlatformError)) throw err;
      deps.log.warn({ teamId, userId, slackError: err.slackError }, 'home tab not refreshed');
      continue;
    }
    await store.home.noteRefreshed(teamId, userId, home.rendered);
    published++;
  }
  deps.log.debug({ teamId, viewers: viewers.size, published }, 'home tabs refreshed');
  return published;
}

export function createHomeRefreshWorker(
  connection: ConnectionOptions,
  redisPrefix: string,
  deps: HomeRefreshDeps,
  metrics?: JobMetrics,
): Worker<HomeRefreshJobData> {
  return createInstrumentedWorker<HomeRefreshJobData>({
    queue: HOME_QUEUE,
    connection,
    redisPrefix,
    // Refreshes mostly wait on the Home pacer; one per workspace runs at a time anyway.
    concurrency: 4,
    run: async (data) => {
      await refreshHomes(deps, HomeRefreshJobData.parse(data).teamId);
    },
    log: deps.log,
    metrics,
    describeJob: (job) => ({ teamId: job.data.teamId }),
  });
}
