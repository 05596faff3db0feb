import { z } from 'zod';

// Identifiers that travel through Slack (action_id, block_id, value, private_metadata) are encoded and
// decoded here only. Values carry which release and item a click is about, never state: state lives
// in Redis, and anything decoded here is checked against it.

export const ActionId = {
  openGateOverride: 'gate.override.open',
  /** A link button (Slack still sends its click); acknowledged and nothing else. */
  openLink: 'link.open',
  /** "Tell me when it's free" on a refusal because an environment is locked; its value is the env. */
  notifyWhenFree: 'lock.notify',
  /** On the release header, each with the release id as its value. */
  openRedFlag: 'release.redflag.open',
  openClearRedFlag: 'release.redflag.clear.open',
  decideGo: 'release.go',
  openNoGo: 'release.nogo.open',
  /** "Roll back…" on the release header; its value is the release id. */
  openRollback: 'release.rollback.open',
  /** "Override the freeze…" on a start refused by a freeze window; its value is the start to retry. */
  overrideFreeze: 'freeze.override.open',
} as const;

/**
 * Actions about one release and a number (a phase, a check-in, an issue), with an optional last part:
 * "<route>|<releaseId>|<number>[|<extra>]". Each button gets its own action_id this way, as Slack
 * requires within a block, and the route still matches by prefix.
 */
export const ReleaseRoute = {
  snooze: 'reminder.snooze',
  checkinHealthy: 'checkin.healthy',
  checkinIssue: 'checkin.issue',
  checkinRollback: 'checkin.rollback',
  /** "Record values…" on a check-in: the observed values of the template's success criteria. */
  checkinRecord: 'checkin.record',
  resolveIssue: 'issue.resolve',
  assignOwners: 'owners.open',
} as const;
export type ReleaseRoute = (typeof ReleaseRoute)[keyof typeof ReleaseRoute];

export function releaseRoutePattern(route: ReleaseRoute): RegExp {
  return new RegExp(`^${route.replace(/\./g, '\\.')}\\|`);
}

export function encodeReleaseAction(
  route: ReleaseRoute,
  releaseId: string,
  index: number,
  extra?: string,
): string {
  return [route, releaseId, String(index), ...(extra === undefined ? [] : [extra])].join('|');
}

const ReleaseActionParts = z.object({
  releaseId: z.string().regex(/^r[0-9]{1,12}$/),
  index: z.coerce.number<string>().int().min(0).max(10_000),
  extra: z
    .string()
    .regex(/^[a-z0-9]{1,8}$/)
    .optional(),
});

export function decodeReleaseAction(
  route: ReleaseRoute,
  actionId: unknown,
): { releaseId: string; index: number; extra?: string } | undefined {
  if (typeof actionId !== 'string') return undefined;
  const [head, releaseId, index, extra, more] = actionId.split('|');
  if (head !== route || more !== undefined) return undefined;
  const parsed = ReleaseActionParts.safeParse({ releaseId, index, extra });
  if (!parsed.success) return undefined;
  const { extra: last, ...rest } = parsed.data;
  return last === undefined ? rest : { ...rest, extra: last };
}

/** A "Done" button on an item in a reminder: "item.done|<releaseId>|<itemId>". */
export const ITEM_DONE_PATTERN = /^item\.done\|/;

export function encodeItemDoneActionId(releaseId: string, itemId: string): string {
  return `item.done|${releaseId}|${itemId}`;
}

export function decodeItemDoneActionId(actionId: unknown): { releaseId: string; itemId: string } | undefined {
  if (typeof actionId !== 'string') return undefined;
  const [route, releaseId, itemId, extra] = actionId.split('|');
  if (route !== 'item.done' || extra !== undefined) return undefined;
  const parsed = ItemTarget.safeParse({ releaseId, itemId });
  return parsed.success ? parsed.data : undefined;
}

/** Matches every item checkbox's action_id. */
export const ITEM_ACTION_PATTERN = /^item\.set\|/;

/**
 * The checkbox (or a reminder's Done button) of an item that records a value: "item.record|<releaseId>|
 * <itemId>". A route of its own, so that a tick opens the value form at once, without a read first.
 */
export const ITEM_RECORD_PATTERN = /^item\.record\|/;

export const CallbackId = {
  gateOverride: 'gate.override',
  reportIssue: 'checkin.issue',
  rollBack: 'checkin.rollback',
  recordObservations: 'checkin.observe',
  resolveIssue: 'issue.resolve',
  assignOwners: 'owners.assign',
  overrideFreeze: 'freeze.override',
  rollBackRelease: 'release.rollback',
  raiseRedFlag: 'release.redflag',
  clearRedFlag: 'release.redflag.clear',
  noGo: 'release.nogo',
  startRelease: 'release.start',
  /** The form asking for the value an item records; it is also told when the person closes it. */
  recordValue: 'item.record',
} as const;

/** The one input of the value form. */
export const ValueField = {
  block: 'value',
  action: 'value.input',
} as const;

export const StartField = {
  versionBlock: 'version',
  versionAction: 'version.input',
  envBlock: 'env',
  envAction: 'env.select',
  templateBlock: 'template',
  templateAction: 'template.select',
  windowBlock: 'window',
  windowAction: 'window.input',
  notesBlock: 'notes',
  notesAction: 'notes.input',
  downtimeBlock: 'downtime',
  downtimeAction: 'downtime.input',
  stakeholdersBlock: 'stakeholders',
  stakeholdersAction: 'stakeholders.select',
} as const;

export const RedFlagField = {
  conditionBlock: 'condition',
  conditionAction: 'condition.select',
  noteBlock: 'note',
  noteAction: 'note.input',
} as const;

export const FreezeField = {
  reasonBlock: 'reason',
  reasonAction: 'reason.input',
} as const;

/** Input blocks of the check-in and issue modals. */
export const CheckinField = {
  whatBlock: 'what',
  whatAction: 'what.input',
  severityBlock: 'severity',
  severityAction: 'severity.select',
  reasonBlock: 'reason',
  reasonAction: 'reason.input',
  resolutionBlock: 'resolution',
  resolutionAction: 'resolution.input',
} as const;

/** The observed-values modal has one number input per success criterion, in a block "observed:<id>". */
export const ObservationField = {
  blockPrefix: 'observed:',
  action: 'observed.input',
} as const;

/** The owners modal has one user picker per item, in a block "owner:<itemId>". */
export const OwnerField = {
  blockPrefix: 'owner:',
  action: 'owner.select',
} as const;

export const GateOverrideField = {
  phaseBlock: 'phase',
  phaseAction: 'phase.select',
  reasonBlock: 'reason',
  reasonAction: 'reason.input',
} as const;

/**
 * The person behind an interaction. Slack always sends `user.id`; a payload without a readable one is
 * refused, so no refusal or change is ever recorded against nobody.
 */
const UserRef = z.object({ id: z.string().min(1).max(255) });

export function decodeUserId(user: unknown): string | undefined {
  const parsed = UserRef.safeParse(user);
  return parsed.success ? parsed.data.id : undefined;
}

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
  return decodeItemRoute('item.set', actionId);
}

export function encodeItemRecordActionId(releaseId: string, itemId: string): string {
  return `item.record|${releaseId}|${itemId}`;
}

export function decodeItemRecordActionId(
  actionId: unknown,
): { releaseId: string; itemId: string } | undefined {
  return decodeItemRoute('item.record', actionId);
}

function decodeItemRoute(
  expected: string,
  actionId: unknown,
): { releaseId: string; itemId: string } | undefined {
  if (typeof actionId !== 'string') return undefined;
  const [route, releaseId, itemId, extra] = actionId.split('|');
  if (route !== expected || extra !== undefined) return undefined;
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

const ReleaseIndexMetadata = z.object({
  teamId: z.string().min(1).max(20),
  releaseId: ReleaseId,
  index: z.number().int().min(0).max(10_000),
});
export type ReleaseIndexMetadata = z.infer<typeof ReleaseIndexMetadata>;

/** private_metadata of a modal about one phase, check-in or issue of a release. */
export function encodeReleaseIndexMetadata(metadata: ReleaseIndexMetadata): string {
  return JSON.stringify(metadata);
}

export function decodeReleaseIndexMetadata(text: unknown): ReleaseIndexMetadata | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const parsed = ReleaseIndexMetadata.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

const ItemMetadata = z.object({ teamId: z.string().min(1).max(20), releaseId: ReleaseId, itemId: ItemId });
export type ItemMetadata = z.infer<typeof ItemMetadata>;

/** private_metadata of a modal about one item of a release (the value form). */
export function encodeItemMetadata(metadata: ItemMetadata): string {
  return JSON.stringify(metadata);
}

export function decodeItemMetadata(text: unknown): ItemMetadata | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const parsed = ItemMetadata.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
