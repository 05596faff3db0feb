import { z } from 'zod';
import { DEPLOYMENT_STATUSES } from '../../app/report-deployment.js';
import { MAX_VERSION_LENGTH } from '../../domain/commands.js';
import { GATE_BLOCKER_KINDS } from '../../domain/gate.js';
import { RECORDED_VALUE_MAX_LENGTH } from '../../domain/recorded-value.js';

// The pipeline API's requests and responses, as zod schemas: the same objects validate what comes in,
// describe what goes out, and generate the OpenAPI document (openapi.ts), so the three cannot drift.

export const MAX_SUMMARY_LENGTH = 200;
export const MAX_NOTES_LENGTH = 2000;
export const MAX_URL_LENGTH = 2000;
/** The longest a gate question may wait for its answer to change. */
export const MAX_GATE_WAIT_SECONDS = 30;

const webUrl = z
  .url({ protocol: /^https?$/ })
  .max(MAX_URL_LENGTH)
  .meta({ description: 'An http(s) link', example: 'https://ci.example.com/runs/4711' });
// One line: no control characters, so nothing a pipeline sends can break a Slack message or the log.
const oneLine = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
    .regex(/^[^\u0000-\u001f\u007f]*$/, 'must be one line of text');

export const VersionParam = z
  .string()
  .min(1)
  .max(MAX_VERSION_LENGTH)
  .meta({
    description: 'The release version, as started (v2.3, 2026.11.1)',
    example: 'v2.3',
    param: { name: 'version', in: 'path' },
  });
export const ItemParam = z
  .string()
  .min(1)
  .max(100)
  .meta({
    description: 'The checklist item id from the template',
    example: 'smoke-tests',
    param: { name: 'item', in: 'path' },
  });
export const EnvQuery = z.object({
  env: z.string().min(1).max(64).optional().meta({
    description: 'The environment; needed when the version is active in more than one',
    example: 'production',
  }),
});

export const StartReleaseBody = z
  .object({
    version: z.string().min(1).max(MAX_VERSION_LENGTH).meta({ example: 'v2.3' }),
    env: z.string().min(1).max(64).meta({ example: 'production' }),
    template: z.string().min(1).max(64).optional().meta({ description: 'Defaults to `standard`' }),
    window: z
      .object({
        at: z.iso.datetime({ offset: true }).meta({ example: '2026-12-07T14:00:00Z' }),
        zone: z
          .string()
          .min(1)
          .max(64)
          .optional()
          .meta({ description: 'IANA zone shown to people; UTC by default' }),
      })
      .strict()
      .optional()
      .meta({ description: 'The planned deploy window' }),
    notes: z
      .string()
      .trim()
      .min(1)
      .max(MAX_NOTES_LENGTH)
      .optional()
      .meta({ description: 'Release notes for stakeholders' }),
    commit: z
      .string()
      .regex(/^[0-9a-f]{7,64}$/i, 'a commit SHA: 7 to 64 hex digits')
      .optional()
      .meta({ example: '3f9c2e1b7d' }),
    runUrl: webUrl.optional().meta({ description: 'The pipeline run that started the release' }),
  })
  .strict()
  .meta({ id: 'StartReleaseRequest' });

export const TickItemBody = z
  .object({
    done: z.boolean().default(true).meta({ description: 'true ticks the item, false unticks it' }),
    evidenceUrl: webUrl.optional().meta({ description: 'Where a person can see the proof' }),
    summary: oneLine(MAX_SUMMARY_LENGTH).optional().meta({ example: '412 tests passed on staging' }),
    value: oneLine(RECORDED_VALUE_MAX_LENGTH)
      .optional()
      .meta({ description: 'For an item that records a value (commit SHA, backup id, test run id)' }),
  })
  .strict()
  .meta({ id: 'TickItemRequest' });

export const DeploymentBody = z
  .object({
    status: z.enum(DEPLOYMENT_STATUSES),
    summary: oneLine(MAX_SUMMARY_LENGTH).optional(),
    evidenceUrl: webUrl.optional(),
    values: z
      .record(z.string().min(1).max(100), oneLine(RECORDED_VALUE_MAX_LENGTH))
      .optional()
      .meta({ description: 'Values for deployment-phase items that record one, by item id' }),
  })
  .strict()
  .meta({ id: 'DeploymentReport' });

export const GateQuery = EnvQuery.extend({
  wait: z.coerce
    .number()
    .int()
    .min(0)
    .max(MAX_GATE_WAIT_SECONDS)
    .optional()
    .meta({
      description: `Seconds to wait for the answer to change before answering (0–${MAX_GATE_WAIT_SECONDS})`,
      example: 25,
    }),
});

const Timestamp = z.iso.datetime().meta({ example: '2026-12-05T10:15:00.000Z' });

export const ItemView = z
  .object({
    id: z.string(),
    text: z.string(),
    required: z.boolean(),
    pipeline: z.boolean().meta({ description: 'A pipeline may tick it' }),
    done: z.boolean(),
    by: z.string().optional().meta({ description: 'Slack user id, or pipeline:<token name>' }),
    byName: z.string().optional(),
    at: Timestamp.optional(),
    value: z.string().optional(),
    evidenceUrl: z.string().optional(),
    summary: z.string().optional(),
  })
  .meta({ id: 'Item' });

export const PhaseView = z
  .object({
    id: z.string(),
    name: z.string(),
    state: z.enum(['done', 'open', 'locked']),
    deployment: z.boolean(),
    items: z.array(ItemView),
  })
  .meta({ id: 'Phase' });

export const GateBlocker = z
  .object({
    kind: z.enum(GATE_BLOCKER_KINDS),
    detail: z.string(),
    phase: z.string().optional(),
    openItems: z.array(z.string()).optional(),
    until: Timestamp.optional(),
    holder: z.string().optional(),
  })
  .meta({ id: 'GateBlocker' });

export const GateView = z
  .object({
    allowed: z.boolean(),
    final: z.boolean().meta({ description: 'The answer can no longer become yes (the release is over)' }),
    blockers: z.array(GateBlocker),
    release: z.object({ id: z.string(), version: z.string(), env: z.string(), status: z.string() }),
  })
  .meta({ id: 'Gate' });

export const ReleaseView = z
  .object({
    id: z.string(),
    version: z.string(),
    env: z.string(),
    template: z.string(),
    status: z.enum(['active', 'completed', 'cancelled', 'rolling_back', 'rolled_back']),
    startedBy: z.string(),
    startedAt: Timestamp,
    window: z.object({ at: Timestamp, zone: z.string() }).optional(),
    commit: z.string().optional(),
    runUrl: z.string().optional(),
    deployedAt: Timestamp.optional(),
    finishedAt: Timestamp.optional(),
    go: z.object({ by: z.string(), at: Timestamp }).optional(),
    redFlag: z.object({ number: z.number().int(), condition: z.string(), note: z.string() }).optional(),
    progress: z.object({ requiredDone: z.number().int(), requiredTotal: z.number().int() }),
    phases: z.array(PhaseView),
    blockers: z.array(GateBlocker).meta({ description: 'What keeps the deploy from starting now' }),
    slack: z.object({ permalink: z.string().optional() }),
  })
  .meta({ id: 'Release' });

export const StartReleaseResponse = z
  .object({ created: z.boolean(), release: ReleaseView })
  .meta({ id: 'StartReleaseResponse' });

export const TickItemResponse = z
  .object({
    changed: z.boolean().meta({ description: 'false when the item already was in that state' }),
    deployed: z.boolean().meta({ description: 'This tick marked the release deployed' }),
    item: ItemView,
  })
  .meta({ id: 'TickItemResponse' });

export const DeploymentResponse = z
  .object({
    deployed: z.boolean(),
    ticked: z.array(z.string()),
    openItems: z
      .array(z.string())
      .meta({ description: 'Required deployment items still open, for a person' }),
    redFlag: z.number().int().optional(),
    release: ReleaseView,
  })
  .meta({ id: 'DeploymentResponse' });

export const ProblemView = z
  .looseObject({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    code: z.string(),
    errorId: z.string().optional(),
    issues: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details; `code` is stable' });
