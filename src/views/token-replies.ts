import { describeTokenEnvironments, formatToken, type PipelineToken } from '../domain/pipeline-tokens.js';
import type { Reply } from './command-replies.js';
import { escapeMrkdwn, formatSlackDate, mentionUser } from './mrkdwn.js';

// Replies to `/deploy token …`. The secret appears in exactly one of them, the ephemeral that answers
// its creation; the list never shows one.

/** A token just created: the secret, once, and how a pipeline uses it. */
export function renderTokenCreated(token: PipelineToken, secret: string): Reply {
  const lines = [
    `🔑 Pipeline token *${escapeMrkdwn(token.name)}* created for ${escapeMrkdwn(describeTokenEnvironments(token.environments))}. Copy it now: it is shown only this once.`,
    `\`${formatToken(token.tokenId, secret)}\``,
    'Store it as a secret in your CI/CD system and give the pipeline `SHIPCHECK_URL` (this app’s address) and `SHIPCHECK_TOKEN` (the token). Its ticks show up here as done by the pipeline. `/deploy token revoke ' +
      `${escapeMrkdwn(token.name)}\` stops it.`,
  ];
  return { text: lines.join('\n') };
}

/** The workspace's tokens: name, scope, who created it and when, last use. Never a secret. */
export function renderTokenList(tokens: readonly PipelineToken[]): Reply {
  if (tokens.length === 0) {
    return { text: 'No pipeline tokens yet. `/deploy token create <name> [env,…]` makes one.' };
  }
  const lines = tokens.map(
    (token) =>
      `• *${escapeMrkdwn(token.name)}* · ${escapeMrkdwn(describeTokenEnvironments(token.environments))} · created by ${mentionUser(token.createdBy)} ${formatSlackDate(token.createdAt)} · ${token.lastUsedAt === undefined ? 'never used' : `last used ${formatSlackDate(token.lastUsedAt)}`}`,
  );
  return { text: [`Pipeline tokens (${tokens.length}):`, ...lines].join('\n') };
}

export function renderTokenRevoked(name: string): Reply {
  return {
    text: `Pipeline token *${escapeMrkdwn(name)}* revoked: pipelines using it are refused from now on.`,
  };
}
