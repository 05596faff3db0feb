import { pipelineNameOf } from '../domain/actor.js';

// Helpers for Slack's mrkdwn. User text is always escaped, so nobody can inject <!channel> pings,
// user mentions or links through a version, a reason or an item text.

export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A person as a mention; a pipeline by its token name, marked as a machine. */
export function mentionUser(userId: string): string {
  const pipeline = pipelineNameOf(userId);
  if (pipeline !== undefined) return `🤖 ${escapeMrkdwn(pipeline)} (pipeline)`;
  return /^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : escapeMrkdwn(userId);
}

export function mentionChannel(channelId: string): string {
  return `<#${channelId}>`;
}

/** A time shown in each reader's own time zone; the fallback (UTC) shows where Slack cannot format it. */
export function formatSlackDate(atMs: number, format = '{date_short_pretty} {time}'): string {
  const seconds = Math.floor(atMs / 1000);
  const fallback = `${new Date(atMs).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return `<!date^${seconds}^${format}|${fallback}>`;
}

export function linkTo(url: string, label: string): string {
  return `<${url.replace(/[<>|]/g, encodeURIComponent)}|${escapeMrkdwn(label).replace(/\|/g, '¦')}>`;
}

/** Cuts text to a Block Kit length limit, marking the cut. */
export function truncate(text: string, maxLength: number): string {
  return text.length <= maxLength ? text : `${text.slice(0, maxLength - 1)}…`;
}
