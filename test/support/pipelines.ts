import { waitForReply } from '../e2e/helpers.js';
import type { TestApp } from './app-harness.js';

// Pipeline tokens the way a release manager gets one: `/deploy token create` in Slack, the secret read
// from the ephemeral answer.

/** A pipeline token as shipcheck shows it once: `shpk_<id>_<secret>`. */
export const TOKEN_TEXT = /shpk_[A-Za-z0-9]{12}_[A-Za-z0-9_-]{43,}/;

export async function createPipelineToken(
  app: TestApp,
  name: string,
  envs: string,
  releaseManager = 'U0LEAD',
): Promise<string> {
  const created = await app.command(`token create ${name} ${envs}`, { user_id: releaseManager });
  return TOKEN_TEXT.exec(await waitForReply(app, created.responseTag, TOKEN_TEXT))![0];
}
