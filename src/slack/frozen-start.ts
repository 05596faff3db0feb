import { z } from 'zod';

// A start refused inside a freeze window travels to the override modal in a button's value.

/** A button's value holds at most 2,000 characters: long release notes are cut to fit it. */
export const FROZEN_NOTES_LENGTH = 800;

/** What a freeze refusal carries to the override modal: the start to try again. */
export const FrozenStart = z.object({
  version: z.string().min(1).max(64),
  env: z.string().min(1).max(32),
  templateId: z.string().min(1).max(32),
  channelId: z.string().regex(/^[CGD][A-Z0-9]{2,}$/),
  windowAt: z.number().int().optional(),
  windowZone: z.string().max(64).optional(),
  notes: z.string().max(FROZEN_NOTES_LENGTH).optional(),
  downtime: z.string().max(100).optional(),
  stakeholders: z
    .array(z.string().regex(/^[CG][A-Z0-9]{2,}$/))
    .max(5)
    .optional(),
});
export type FrozenStart = z.infer<typeof FrozenStart>;

export function encodeFrozenStart(start: FrozenStart): string {
  return JSON.stringify(start);
}

export function decodeFrozenStart(text: unknown): FrozenStart | undefined {
  if (typeof text !== 'string') return undefined;
  try {
    const parsed = FrozenStart.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}
