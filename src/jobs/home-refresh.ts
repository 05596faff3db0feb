import { type ConnectionOptions, Queue, type Worker } from 'bullmq';
import { z } from 'zod';
import type { RoleDirectory } from '../app/access.js';
import type { Logger } from '../log.js';
import { drawHome, loadHomeContext } from '../slack/home.js';
import { type SlackOutbound, SlackPlatformError } from '../slack/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';
import { coalesceByKey } from './coalesce.js';
import { createInstrumentedWorker, type JobMetrics } from './instrumented-worker.js';
import { queuePrefix } from './sync-queue.js';

// Keeps open Home tabs current. Every sync of a release asks for a refresh of its workspace; the
// refresh reads the workspace once, draws each recent viewer's tab and publishes only those whose
// content changed, spaced by the workspace's Home pacer. One job per workspace is waiting at a time
// (BullMQ deduplication, a follow-up kept while one runs), so a burst of clicks is drawn once.

export const HOME_QUEUE = 'home-refresh';

/** How long a refresh waits before drawing, so the changes of a burst land in one publish. */
export const HOME_REFRESH_DELAY_MS = 2000;
/** Someone who has not opened their Home for this long gets it redrawn when they next open it. */
export const HOME_VIEWER_IDLE_MS = 14 * 24 * 3600_000;

const HomeRefreshJobData = z.object({ teamId: z.string().min(1) });
type HomeRefreshJobData = z.infer<typeof HomeRefreshJobData>;

/** Deterministic and free of ':' (BullMQ reserves it in ids). */
export function homeRefreshId(teamId: string): string {
  return `home-${teamId}`;
}

export class HomeRefreshQueue {
  readonly queue: Queue<HomeRefreshJobData>;

  constructor(connection: ConnectionOptions, redisPrefix: string) {
    this.queue = new Queue<HomeRefreshJobData>(HOME_QUEUE, {
      connection,
      prefix: queuePrefix(redisPrefix),
      defaultJobOptions: {
        attempts: 5,
        backoff: { type: 'exponential', delay: 2000 },
        removeOnComplete: true,
        removeOnFail: { age: 24 * 3600, count: 100 },
      },
    });
  }

  /** Asks for the workspace's open Home tabs to be redrawn soon; many asks fold into one refresh. */
  readonly request = coalesceByKey<string>(
    async (teamId) => {
      await this.queue.add(
        'refresh',
        { teamId },
        {
          delay: HOME_REFRESH_DELAY_MS,
          deduplication: { id: homeRefreshId(teamId), keepLastIfActive: true },
        },
      );
    },
    (teamId) => teamId,
  );

  async close(): Promise<void> {
    await this.queue.close();
  }
}

export interface HomeRefreshDeps {
  store: ReleaseStore;
  roles: Pick<RoleDirectory, 'resolve'>;
  outbound: Pick<SlackOutbound, 'refreshHome'>;
  log: Logger;
}

/** Redraws every recent viewer's Home tab whose content changed; resolves with how many were published. */
export async function refreshHomes(deps: HomeRefreshDeps, teamId: string, now = Date.now()): Promise<number> {
  const { store } = deps;
  const viewers = await store.homeViewers(teamId, now - HOME_VIEWER_IDLE_MS);
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
    await store.noteHomeRefreshed(teamId, userId, home.rendered);
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
