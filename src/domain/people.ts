import { pipelineNameOf } from './actor.js';
import type { AuditEvent } from './audit.js';

// The people a release's record names, by the names they had in Slack when they first appeared in it.
// Slack ids mean nothing outside Slack, so the deployment log, the audit listing and the retrospective
// show these names beside the ids. Names are people's own input: every renderer escapes them.

/** A person's names as Slack gave them, and when that was (ms since the epoch). */
export interface PersonName {
  /** The display name, or the real name when none is set, or the user name. */
  name: string;
  /** The real name, only when it differs from `name`. */
  realName?: string;
  at: number;
}

/** A release's people record: Slack user id → their names when first recorded. */
export type ReleasePeople = ReadonlyMap<string, PersonName>;

const MAX_NAME_LENGTH = 120;

export const NO_PEOPLE: ReleasePeople = new Map();

/** Whether an actor is a Slack user (U…/W…), as opposed to shipcheck itself or a user group. */
export function isSlackUserId(id: string): boolean {
  return /^[UW][A-Z0-9]{1,20}$/.test(id);
}

/** Every Slack user an event names: who did it, who was reminded, and whom an item was assigned from and to. */
function namedBy(event: AuditEvent): string[] {
  const named = [event.user];
  if (event.recipient) named.push(event.recipient);
  if (event.type === 'assigned') named.push(event.from, event.to);
  return named;
}

/** The Slack users the events name, each once, in order of first appearance. */
export function peopleNamedIn(events: readonly AuditEvent[]): string[] {
  return [...new Set(events.flatMap(namedBy).filter(isSlackUserId))];
}

/** Names from a users.info `user` object; undefined when it carries none. */
export function personNameFrom(user: unknown, at: number): PersonName | undefined {
  if (typeof user !== 'object' || user === null) return undefined;
  const { name: userName, real_name: userRealName, profile } = user as Record<string, unknown>;
  const fields = (typeof profile === 'object' && profile !== null ? profile : {}) as Record<string, unknown>;
  // Bounded: a name is shown beside every act of its person.
  const text = (value: unknown) =>
    typeof value === 'string' ? value.replace(/\s+/g, ' ').trim().slice(0, MAX_NAME_LENGTH) : '';
  const realName = text(fields.real_name) || text(userRealName);
  const name = text(fields.display_name) || realName || text(userName);
  if (!name) return undefined;
  return realName && realName !== name ? { name, realName, at } : { name, at };
}

/**
 * `Bob Smith (U0BOB)` in plain text, unescaped; the bare id for someone not recorded; a pipeline as
 * `github-actions (pipeline)`.
 */
export function describePerson(people: ReleasePeople, userId: string): string {
  const pipeline = pipelineNameOf(userId);
  if (pipeline !== undefined) return `${pipeline} (pipeline)`;
  const person = people.get(userId);
  return person ? `${person.name} (${userId})` : userId;
}
