// The direct messages shipcheck posts for a release, as they are recorded with it: phase reminders to
// each responsible person, and check-in escalations to the release's owner. They are part of the
// release's messages: the sync keeps them true. Of the reminders one person got about one phase only
// the latest speaks for the phase; each older one is told once that a newer reminder replaced it.

export type DirectMessage =
  | {
      kind: 'reminder';
      userId: string;
      phaseIndex: number;
      ts: string;
      /** Fingerprint of what the message last showed. */
      hash: string;
    }
  | {
      kind: 'checkin';
      userId: string;
      checkinIndex: number;
      ts: string;
      hash: string;
      /** The check-in in the release thread, which the message links to. */
      permalink?: string;
    };

/** Orders two Slack message timestamps ("<seconds>.<microseconds>") by when they were posted. */
export function compareSlackTs(a: string, b: string): number {
  const [aSeconds = '', aMicros = ''] = a.split('.');
  const [bSeconds = '', bMicros = ''] = b.split('.');
  // Whole numbers compared as strings of equal length: a float would lose the microseconds.
  const width = Math.max(aSeconds.length, bSeconds.length);
  const aKey = `${aSeconds.padStart(width, '0')}.${aMicros.padEnd(6, '0')}`;
  const bKey = `${bSeconds.padStart(width, '0')}.${bMicros.padEnd(6, '0')}`;
  return aKey < bKey ? -1 : aKey > bKey ? 1 : 0;
}

/**
 * The ids of the reminders that a later reminder to the same person about the same phase replaced:
 * every reminder but the latest of each person and phase.
 */
export function findSupersededReminders(messages: ReadonlyMap<string, DirectMessage>): Set<string> {
  const latest = new Map<string, { id: string; ts: string }>();
  const superseded = new Set<string>();
  for (const [id, message] of messages) {
    if (message.kind !== 'reminder') continue;
    const key = `${message.phaseIndex}|${message.userId}`;
    const known = latest.get(key);
    if (!known) {
      latest.set(key, { id, ts: message.ts });
    } else if (compareSlackTs(message.ts, known.ts) > 0) {
      superseded.add(known.id);
      latest.set(key, { id, ts: message.ts });
    } else {
      superseded.add(id);
    }
  }
  return superseded;
}
