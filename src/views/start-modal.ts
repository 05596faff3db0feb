import type { ModalView } from '@slack/types';
import { CallbackId, StartField } from './ids.js';
import { truncate } from './mrkdwn.js';

// The start form behind `/deploy start` with no version: everything the command takes, plus what
// stakeholders are told (release notes, expected downtime, their channels).

export interface StartFormContext {
  /** Where the command was typed: the release goes there (or to DEPLOY_CHANNEL). */
  channelId: string;
  /** The person's Slack time zone, read when the form opened, so the window is read in it. */
  zone: string;
}

export function renderStartModal(
  environments: readonly string[],
  templates: readonly { id: string; name: string }[],
  defaults: { env: string; templateId: string },
  context: StartFormContext,
): ModalView {
  const option = (value: string, label: string) => ({
    text: { type: 'plain_text' as const, text: truncate(label, 75) },
    value,
  });
  const envOptions = environments.slice(0, 100).map((env) => option(env, env));
  const templateOptions = templates.slice(0, 100).map((template) => option(template.id, template.name));
  const text = (
    block: string,
    action: string,
    label: string,
    hint: string | undefined,
    options: { optional: boolean; multiline?: boolean; max: number; placeholder?: string },
  ) => ({
    type: 'input' as const,
    block_id: block,
    optional: options.optional,
    label: { type: 'plain_text' as const, text: label },
    ...(hint ? { hint: { type: 'plain_text' as const, text: hint } } : {}),
    element: {
      type: 'plain_text_input' as const,
      action_id: action,
      multiline: options.multiline ?? false,
      max_length: options.max,
      ...(options.placeholder
        ? { placeholder: { type: 'plain_text' as const, text: options.placeholder } }
        : {}),
    },
  });
  return {
    type: 'modal',
    callback_id: CallbackId.startRelease,
    private_metadata: JSON.stringify(context),
    title: { type: 'plain_text', text: 'Start a release' },
    submit: { type: 'plain_text', text: 'Start' },
    close: { type: 'plain_text', text: 'Cancel' },
    blocks: [
      text(
        StartField.versionBlock,
        StartField.versionAction,
        'Version',
        'Letters, digits, dots and dashes: v2.3, 2026.11.1',
        {
          optional: false,
          max: 64,
          placeholder: 'v2.3',
        },
      ),
      {
        type: 'input',
        block_id: StartField.envBlock,
        label: { type: 'plain_text', text: 'Environment' },
        element: {
          type: 'static_select',
          action_id: StartField.envAction,
          options: envOptions,
          ...(envOptions.some((candidate) => candidate.value === defaults.env)
            ? { initial_option: envOptions.find((candidate) => candidate.value === defaults.env)! }
            : {}),
        },
      },
      {
        type: 'input',
        block_id: StartField.templateBlock,
        label: { type: 'plain_text', text: 'Checklist' },
        element: {
          type: 'static_select',
          action_id: StartField.templateAction,
          options: templateOptions,
          ...(templateOptions.some((candidate) => candidate.value === defaults.templateId)
            ? {
                initial_option: templateOptions.find((candidate) => candidate.value === defaults.templateId)!,
              }
            : {}),
        },
      },
      text(
        StartField.windowBlock,
        StartField.windowAction,
        'Deploy window',
        `Like "tomorrow 14:00", "2026-11-25 14:00 Europe/Berlin" or "in 3d"; read in your time zone (${context.zone}) unless you name one. Empty: now.`,
        { optional: true, max: 80, placeholder: 'tomorrow 14:00' },
      ),
      text(
        StartField.notesBlock,
        StartField.notesAction,
        'Release notes',
        'What changes, for the stakeholders.',
        {
          optional: true,
          multiline: true,
          max: 1000,
        },
      ),
      text(StartField.downtimeBlock, StartField.downtimeAction, 'Expected downtime', undefined, {
        optional: true,
        max: 100,
        placeholder: 'none, or about 10 minutes',
      }),
      {
        type: 'input',
        block_id: StartField.stakeholdersBlock,
        optional: true,
        label: { type: 'plain_text', text: 'Stakeholder channels' },
        hint: { type: 'plain_text', text: 'Who hears about this release; empty: the usual channels.' },
        element: {
          type: 'multi_conversations_select',
          action_id: StartField.stakeholdersAction,
          max_selected_items: 5,
          filter: { include: ['public', 'private'], exclude_bot_users: true },
        },
      },
    ],
  };
}
