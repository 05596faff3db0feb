import { z } from 'zod';

// Identifiers that travel through Slack (action_id, block_id, value, private_metadata) are encoded and
// decoded here only. Values carry which release and item a click is about, never state: state lives
// in Redis, and anything decoded here is checked against it.

export const ActionId = {
  openGateOverride: 'gate.override.open',
} as const;

/** Matches every item checkbox's action_id. */
export const ITEM_ACTION_PATTERN = /^item\.set\|/;

export const CallbackId = {
  gateOverride: 'gate.override',
} as const;

export const GateOverrideField = {
  phaseBlock: 'phase',
  phaseAction: 'phase.select',
  reasonBlock: 'reason',
  reasonAction: 'reason.input',
} as const;

const ReleaseId = z.string().regex(/^r[0-9]{1,12}$/);
const ItemId = z.string().regex(/^[a-z0-9][a-z0-9-]{0,47}$/);
// Built once: zod compiles a schema on first use, and this one runs on every click.
const ItemTarget = z.object({ releaseId: ReleaseId, itemId: ItemId });

/**
 * An item checkbox's action_id: "item.set|<releaseId>|<itemId>". It names the item in the action_id
 * because an untick arrives with no selected option, so no option value to read it from.
 */
export function encodeItemActionId(releaseId: string, itemId: string): string {
  return `item.set|${releaseId}|${itemId}`;
}

export function decodeItemActionId(actionId: unknown): { releaseId: string; itemId: string } | undefined {
  if (typeof actionId !== 'string') return undefined;
  const [route, releaseId, itemId, extra] = actionId.split('|');
  if (route !== 'item.set' || extra !== undefined) return undefined;
  const parsed = ItemTarget.safeParse({ releaseId, itemId });
  return parsed.success ? parsed.data : undefined;
}

export function encodeReleaseValue(releaseId: string): string {
  return releaseId;
}

export function decodeReleaseValue(value: unknown): string | undefined {
  const parsed = ReleaseId.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

const GateOverrideMetadata = z.object({ teamId: z.string().min(1).max(20), releaseId: ReleaseId });
export type GateOverrideMetadata = z.infer<typeof GateOverrideMetadata>;

export function encodeGateOverrideMetadata(metadata: GateOverrideMetadata): string {
  return JSON.stringify(metadata);
}

export function decodeGateOverrideMetadata(text: unknown): GateOverrideMetadata | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const parsed = GateOverrideMetadata.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/** The one option of an item's checkbox. */
export const ITEM_DONE_OPTION_VALUE = 'done';

/**
 * An item's block id: "item:<itemId>", to which the message's fingerprint is appended, so that it changes
 * whenever the content does (Slack clients keep a checkbox's local state while its block id stays).
 */
export function itemBlockId(itemId: string): string {
  return `item:${itemId}`;
}

export function isItemBlockId(blockId: string): boolean {
  return blockId.startsWith('item:');
}
