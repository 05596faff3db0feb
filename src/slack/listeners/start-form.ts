import type { ViewSubmitAction } from '@slack/bolt';
import { z } from 'zod';
import { startRelease } from '../../app/start-release.js';
import { validateVersion } from '../../domain/commands.js';
import { parseWindow } from '../../domain/time.js';
import { renderFreezeRefusal } from '../../views/command-replies.js';
import { CallbackId, StartField } from '../../views/ids.js';
import { describeUserError } from '../../views/user-errors.js';
import type { SlackDeps } from '../deps.js';
import { encodeFrozenStart, FROZEN_NOTES_LENGTH } from '../frozen-start.js';
import { runGuarded } from '../guard.js';
import { modalChoice, modalText } from '../modal-input.js';
import type { ListenerApp } from '../router.js';

// The start form's submission. What can be checked without I/O (the version, the environment, the
// checklist, the window, read in the zone noted when the form opened) is answered inline in the form;
// the rest (permissions, a release already running, a freeze) comes as an ephemeral message.

const FormContext = z.object({
  channelId: z.string().regex(/^[CGD][A-Z0-9]{2,}$/),
  zone: z.string().min(1).max(64),
});
const CHANNEL_ID = /^[CG][A-Z0-9]{2,}$/;

export function registerStartForm(app: ListenerApp, deps: SlackDeps): void {
  app.view<ViewSubmitAction>(CallbackId.startRelease, async ({ ack, body, view }) => {
    const values = view.state?.values ?? {};
    const read = (block: string, action: string) => modalText(view, block, action);
    let context: z.infer<typeof FormContext> | undefined;
    try {
      const parsed = FormContext.safeParse(JSON.parse(view.private_metadata));
      context = parsed.success ? parsed.data : undefined;
    } catch {
      context = undefined;
    }
    const versionText = read(StartField.versionBlock, StartField.versionAction);
    const env = modalChoice(view, StartField.envBlock, StartField.envAction) ?? '';
    const templateId = modalChoice(view, StartField.templateBlock, StartField.templateAction) ?? '';
    const windowText = read(StartField.windowBlock, StartField.windowAction);
    const notes = read(StartField.notesBlock, StartField.notesAction);
    const downtime = read(StartField.downtimeBlock, StartField.downtimeAction);
    const stakeholders =
      values[StartField.stakeholdersBlock]?.[StartField.stakeholdersAction]?.selected_conversations ?? [];

    const errors: Record<string, string> = {};
    const version = validateVersion(versionText);
    if (!versionText) errors[StartField.versionBlock] = 'Which version? For example v2.3.';
    else if (!version.ok) errors[StartField.versionBlock] = describeUserError(version.error);
    if (!deps.config.environments.includes(env)) errors[StartField.envBlock] = 'Choose an environment.';
    if (!deps.templates.has(templateId)) errors[StartField.templateBlock] = 'Choose a checklist.';
    let window: { at: number; zone: string } | undefined;
    if (windowText) {
      // Written as in the command; "at"/"in" may be left out.
      const text = /^(at|in)\s/i.test(windowText)
        ? windowText
        : /^\d+\s*[smhdw]/i.test(windowText)
          ? `in ${windowText}`
          : `at ${windowText}`;
      const parsed = parseWindow(text, { now: Date.now(), defaultZone: context?.zone ?? 'UTC' });
      if (parsed.ok) window = parsed.value;
      else {
        const problem = {
          time_in_past: 'in_past',
          zone_unknown: 'zone_unknown',
          time_unreadable: 'unreadable',
        } as const;
        errors[StartField.windowBlock] = describeUserError({
          code: 'window_invalid',
          text: windowText,
          problem: problem[parsed.error.code],
          ...(parsed.error.code === 'time_in_past' ? { at: parsed.error.at } : {}),
          ...(parsed.error.code === 'zone_unknown' ? { zone: parsed.error.zone } : {}),
        });
      }
    }
    if (!stakeholders.every((id) => CHANNEL_ID.test(id))) {
      errors[StartField.stakeholdersBlock] = 'Choose channels, not people.';
    }
    if (!context) errors[StartField.versionBlock] = describeUserError({ code: 'payload_invalid' });
    if (Object.keys(errors).length > 0) return void (await ack({ response_action: 'errors', errors }));
    await ack();

    const teamId = body.team?.id ?? view.team_id;
    const userId = body.user.id;
    const channelId = deps.config.deployChannel ?? context!.channelId;
    const tell = (text: string) =>
      deps.outbound.postEphemeral({ channel: context!.channelId, user: userId, text });
    await runGuarded(deps.log, { teamId, userId, env }, tell, async () => {
      const request = {
        teamId,
        userId,
        channelId,
        version: versionText,
        env,
        templateId,
        ...(window ? { window } : {}),
        requestId: view.id,
        ...(notes ? { notes } : {}),
        ...(downtime ? { downtime } : {}),
        ...(stakeholders.length > 0 ? { stakeholderChannels: stakeholders } : {}),
      };
      const outcome = await startRelease(deps, request);
      if (outcome.kind === 'refused') return void (await tell(describeUserError(outcome.error)));
      if (outcome.kind === 'frozen') {
        const frozenStart = encodeFrozenStart({
          version: versionText,
          env,
          templateId,
          channelId,
          ...(window ? { windowAt: window.at, windowZone: window.zone } : {}),
          ...(notes ? { notes: notes.slice(0, FROZEN_NOTES_LENGTH) } : {}),
          ...(downtime ? { downtime } : {}),
          ...(stakeholders.length > 0 ? { stakeholders } : {}),
        });
        const refusal = renderFreezeRefusal(env, outcome.freeze, frozenStart);
        await deps.outbound.postEphemeral({ channel: context!.channelId, user: userId, ...refusal });
      }
    });
  });
}
