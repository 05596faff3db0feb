/** A short, stable fingerprint of a render (FNV-1a, 32 bits): cheap, pure, and plenty to tell renders apart. */
export function fingerprint(text: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash.toString(36).padStart(7, '0');
}

/** The fingerprint of a whole message as sent. */
export function fingerprintMessage(message: { text: string; blocks: unknown[] }): string {
  return fingerprint(`${message.text}\u0000${JSON.stringify(message.blocks)}`);
}

/** Where a posted check-in's ts and last render are kept among the release's messages. */
export function checkinMessageKey(checkinIndex: number): string {
  return `checkin:${checkinIndex}`;
}

/** The fingerprint recorded for a message found in Slack, which no render has: it is always updated. */
export const ADOPTED_HASH = 'adopted';
