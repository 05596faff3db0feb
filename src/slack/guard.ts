import type { Release } from '../domain/release.js';
import type { Logger } from '../log.js';
import type { SlackOutbound } from '../slack-api/outbound.js';
import type { ReleaseStore } from '../store/release-store.js';
import { createErrorId, describeUnexpectedError, describeUserError } from '../views/user-errors.js';
import type { SlackDeps } from './deps.js';

// The funnel for errors after a request was acknowledged: Redis being away becomes a clear "try again";
// anything else is logged with an error id that the user sees too. Never swallowed silently.

const REDIS_DOWN_PATTERN =
  /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|max retries per request/i;

export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'MaxRetriesPerRequestError' || REDIS_DOWN_PATTERN.test(error.message);
}

/**
 * Slack gives up on an acknowledgement after 3 s. A change whose commit takes longer than this (Redis
 * struggling) is acknowledged first and its outcome told afterwards.
 */
export const ACK_BUDGET_MS = 1500;

/**
 * Acknowledges a request once its commit has settled (either way), or once the budget has passed,
 * whichever is first: a click Slack saw acknowledged is then a committed click, not one a crash right
 * after the acknowledgement can lose. What the person is told comes after the acknowledgement.
 */
export async function ackWhenCommitted(
  ack: () => Promise<void>,
  commit: Promise<unknown>,
  options: {
    /** Told how long the commit took once it settles, also after the budget. */
    observe?: ((seconds: number) => void) | undefined;
    budgetMs?: number;
  } = {},
): Promise<void> {
  const { observe, budgetMs = ACK_BUDGET_MS } = options;
  const startedAt = performance.now();
  let timer: NodeJS.Timeout | undefined;
  const budget = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, budgetMs);
  });
  const settled = () => observe?.((performance.now() - startedAt) / 1000);
  await Promise.race([commit.then(settled, settled), budget]);
  clearTimeout(timer);
  await ack();
}

/** The commit timing of one kind of request, for ackWhenCommitted. */
export function commitTimer(
  deps: Pick<SlackDeps, 'observeCommit'>,
  kind: string,
): ((seconds: number) => void) | undefined {
  const { observeCommit } = deps;
  return observeCommit && ((seconds) => observeCommit(kind, seconds));
}

/** Where to tell the person about their click later: its response_url, when Slack sent one. */
export function replyUrlOf(body: { response_url?: unknown }): { replyUrl?: string } {
  const url = body.response_url;
  return typeof url === 'string' && /^https?:\/\//.test(url) ? { replyUrl: url } : {};
}

export async function runGuarded(
  log: Logger,
  context: Record<string, unknown>,
  tell: (text: string) => Promise<unknown>,
  work: () => Promise<void>,
): Promise<void> {
  try {
    await work();
  } catch (err) {
    let text: string;
    if (isRedisUnavailable(err)) {
      log.warn({ ...context, err }, 'redis unavailable while handling a request');
      text = describeUserError({ code: 'redis_unavailable' });
    } else {
      const errorId = createErrorId();
      log.error({ ...context, err, errorId }, 'request failed');
      text = describeUnexpectedError(errorId);
    }
    await tell(text).catch((tellErr: unknown) =>
      log.warn({ ...context, err: tellErr }, 'could not tell the user'),
    );
  }
}

/**
 * The work after a modal submission about a release was acked. A modal has no response_url, so the
 * submitter is told what went wrong in an ephemeral message in the release's channel; a release that
 * is gone meanwhile leaves nothing to do.
 */
export async function runForSubmittedRelease(
  deps: { store: Pick<ReleaseStore, 'getRelease'>; outbound: Pick<SlackOutbound, 'postEphemeral'> },
  log: Logger,
  context: { teamId: string; releaseId: string; userId: string } & Record<string, unknown>,
  work: (release: Release, tell: (text: string) => Promise<void>) => Promise<void>,
): Promise<void> {
  const { teamId, releaseId, userId } = context;
  let channelId: string | undefined;
  const tell = async (text: string) => {
    if (channelId) await deps.outbound.postEphemeral({ channel: channelId, user: userId, text });
  };
  await runGuarded(log, context, tell, async () => {
    const release = await deps.store.getRelease(teamId, releaseId);
    if (!release) return;
    channelId = release.channelId;
    await work(release, tell);
  });
}

/**
 * A modal has no response_url: its submitter is told in an ephemeral in the release's channel. The
 * release is read for that only when there is something to tell.
 */
export function tellInReleaseChannel(
  deps: { store: Pick<ReleaseStore, 'getRelease'>; outbound: Pick<SlackOutbound, 'postEphemeral'> },
  teamId: string,
  releaseId: string,
  userId: string,
): (text: string) => Promise<void> {
  return async (text: string) => {
    const release = await deps.store.getRelease(teamId, releaseId);
    if (release) await deps.outbound.postEphemeral({ channel: release.channelId, user: userId, text });
  };
}

/**
 * The work after a modal submission that changes a release through src/app, which reads the release
 * itself: guarded like any other, with refusals told in the release's channel.
 */
export function runForSubmittedChange(
  deps: { store: Pick<ReleaseStore, 'getRelease'>; outbound: Pick<SlackOutbound, 'postEphemeral'> },
  log: Logger,
  context: { teamId: string; releaseId: string; userId: string } & Record<string, unknown>,
  work: (tell: (text: string) => Promise<void>) => Promise<void>,
): Promise<void> {
  const tell = tellInReleaseChannel(deps, context.teamId, context.releaseId, context.userId);
  return runGuarded(log, context, tell, () => work(tell));
}
