import type { Logger } from '../log.js';
import { createErrorId, describeUnexpectedError, describeUserError } from './user-errors.js';

// The funnel for errors after a request was acknowledged: Redis being away becomes a clear "try again";
// anything else is logged with an error id that the user sees too. Never swallowed silently.

const REDIS_DOWN_PATTERN =
  /Stream isn't writeable|Connection is closed|ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|max retries per request/i;

export function isRedisUnavailable(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  return error.name === 'MaxRetriesPerRequestError' || REDIS_DOWN_PATTERN.test(error.message);
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
