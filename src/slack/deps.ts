import type { AppDeps } from '../app/deps.js';
import type { SlackOutbound } from '../slack-api/outbound.js';

/** The application's dependencies, and the Slack Web API for what only Slack shows (modals, ephemerals). */
export interface SlackDeps extends AppDeps {
  outbound: SlackOutbound;
  /** How long a change took to commit before its request was acknowledged (for /metrics). */
  observeCommit?: (kind: string, seconds: number) => void;
}
