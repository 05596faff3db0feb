import type { RespondFn, SlashCommand } from '@slack/bolt';
import { checkPermission } from '../../app/access.js';
import { cancelRelease } from '../../app/cancel-release.js';
import {
  findActiveRelease,
  findAttempt,
  findLatestRelease,
  releaseNotFound,
  withAttemptNumbers,
} from '../../app/find-release.js';
import { overrideFreeze } from '../../app/override-freeze.js';
import { createPipelineToken, listPipelineTokens, revokePipelineToken } from '../../app/pipeline-tokens.js';
import { rescheduleRelease } from '../../app/reschedule-release.js';
import { shareDeploymentLog } from '../../app/share-log.js';
import { startRelease } from '../../app/start-release.js';
import { createStatusLink } from '../../app/status-link.js';
import { readHeaderAnchor, verifyReleaseAudit } from '../../app/verify-audit.js';
import { type DeployCommand, parseDeployCommand } from '../../domain/commands.js';
import { fail, ok, type Result, type UserError } from '../../domain/errors.js';
import type { DeployWindow, Release } from '../../domain/release.js';
import { computeDeliveryStats, parseStatsArguments } from '../../domain/stats.js';
import { parseWindow } from '../../domain/time.js';
import {
  type Reply,
  renderAudit,
  renderAuditVerdict,
  renderFreezeRefusal,
  renderHelp,
  renderLocks,
  renderReleaseList,
  renderStatus,
} from '../../views/command-replies.js';
import { formatSlackDate, mentionChannel } from '../../views/mrkdwn.js';
import { releaseTitle } from '../../views/release-messages.js';
import { renderStartModal } from '../../views/start-modal.js';
import { renderDeliveryStats } from '../../views/stats-message.js';
import {
  renderStatusLinkReply,
  STATUS_PAGES_OFF_TEXT,
  statusPageButton,
} from '../../views/status-link-reply.js';
import { renderTokenCreated, renderTokenList, renderTokenRevoked } from '../../views/token-replies.js';
import { describeUserError } from '../../views/user-errors.js';
import type { SlackDeps } from '../deps.js';
import { encodeFrozenStart } from '../frozen-start.js';
import { runGuarded } from '../guard.js';
import type { ListenerApp } from '../router.js';
import { openRollbackConfirmation } from './rollback.js';

const DEFAULT_ENV = 'production';
const DAY_MS = 24 * 3600_000;
/** How far before a stats period releases are read: one may start weeks before it deploys. */
const STATS_LOOKBACK_MS = 60 * DAY_MS;
const DEFAULT_TEMPLATE = 'standard';

export function registerDeployCommand(app: ListenerApp, deps: SlackDeps): void {
  app.command('/deploy', async ({ command, ack, respond, context }) => {
    const parsed = parseDeployCommand(command.text ?? '', {
      environments: deps.config.environments,
      templates: [...deps.templates.keys()],
    });
    // Bad input is answered in the acknowledgement itself: no I/O, so well inside Slack's 3 seconds.
    if (!parsed.ok) {
      await ack({ response_type: 'ephemeral', text: describeUserError(parsed.error) });
      return;
    }
    await ack();
    const log = deps.log.child({
      teamId: command.team_id,
      userId: command.user_id,
      subcommand: parsed.value.kind,
      retryNum: context.retryNum,
    });
    const reply = (answer: Reply) =>
      respond({ response_type: 'ephemeral', replace_original: false, ...answer });
    await runGuarded(
      log,
      {},
      (text) => reply({ text }),
      () => handleCommand(deps, command, parsed.value, reply),
    );
  });
}

async function handleCommand(
  deps: SlackDeps,
  command: SlashCommand,
  parsed: DeployCommand,
  reply: (answer: Reply) => ReturnType<RespondFn>,
): Promise<void> {
  const teamId = command.team_id;
  const refuse = (error: UserError) => reply({ text: describeUserError(error) });
  switch (parsed.kind) {
    case 'help':
      await reply(renderHelp(parsed.unknownSubcommand));
      return;
    case 'start_form': {
      const denied = await checkPermission(deps, 'start', command.user_id);
      if (denied) return void (await refuse(denied));
      const zone = (await deps.outbound.getUserTimeZone(command.user_id)) ?? 'UTC';
      const templates = [...deps.templates.values()].map(({ id, name }) => ({ id, name }));
      const defaults = {
        env: pickDefault(deps.config.environments, DEFAULT_ENV),
        templateId: pickDefault([...deps.templates.keys()], DEFAULT_TEMPLATE),
      };
      await deps.outbound.openView(
        command.trigger_id,
        renderStartModal(deps.config.environments, templates, defaults, {
          channelId: command.channel_id,
          zone,
        }),
      );
      return;
    }
    case 'start': {
      const env = parsed.env ?? pickDefault(deps.config.environments, DEFAULT_ENV);
      const templateId = parsed.templateId ?? pickDefault([...deps.templates.keys()], DEFAULT_TEMPLATE);
      const channelId = deps.config.deployChannel ?? command.channel_id;
      let window: DeployWindow | undefined;
      if (parsed.windowText) {
        const read = await readWindow(deps, parsed.windowText, command.user_id);
        if (!read.ok) return void (await refuse(read.error));
        window = read.value;
      }
      const outcome = await startRelease(deps, {
        teamId,
        userId: command.user_id,
        channelId,
        version: parsed.version,
        env,
        templateId,
        ...(window ? { window } : {}),
        requestId: command.trigger_id,
        replyUrl: command.response_url,
      });
      if (outcome.kind === 'refused') return void (await refuse(outcome.error));
      if (outcome.kind === 'frozen') {
        const frozenStart = encodeFrozenStart({
          version: parsed.version,
          env,
          templateId,
          channelId,
          ...(window ? { windowAt: window.at, windowZone: window.zone } : {}),
        });
        await reply(renderFreezeRefusal(env, outcome.freeze, frozenStart));
        return;
      }
      if (channelId !== command.channel_id && outcome.created) {
        await reply({
          text: `Started ${parsed.version} → ${env}; its checklists are in ${mentionChannel(channelId)}.`,
        });
      }
      return;
    }
    case 'status': {
      if (!parsed.version) {
        const active = await deps.store.listActive(teamId);
        const list = renderReleaseList(active, [], await loadPermalinks(deps, teamId, active));
        if (deps.config.statusPages && list.blocks) {
          const link = createStatusLink(deps.config.statusPages, teamId, Date.now());
          return void (await reply({ ...list, blocks: [...list.blocks, statusPageButton(link.url)] }));
        }
        await reply(list);
        return;
      }
      const release = await findLatestRelease(deps.store, teamId, parsed.version, parsed.env);
      if (!release) return void (await refuse(releaseNotFound(parsed.version, parsed.env)));
      const { permalink } = await deps.store.messages.get(teamId, release.id);
      const status = renderStatus(release, permalink);
      // With the status pages on, the answer carries a button to the release's page (a fresh link).
      if (deps.config.statusPages && status.blocks) {
        const link = createStatusLink(deps.config.statusPages, teamId, Date.now(), release.id);
        return void (await reply({ ...status, blocks: [...status.blocks, statusPageButton(link.url)] }));
      }
      await reply(status);
      return;
    }
    case 'status_link': {
      if (!deps.config.statusPages) return void (await reply({ text: STATUS_PAGES_OFF_TEXT }));
      let release: Release | undefined;
      if (parsed.version) {
        release = await findLatestRelease(deps.store, teamId, parsed.version, parsed.env);
        if (!release) return void (await refuse(releaseNotFound(parsed.version, parsed.env)));
      }
      const link = createStatusLink(deps.config.statusPages, teamId, Date.now(), release?.id);
      deps.log.info(
        { teamId, userId: command.user_id, releaseId: release?.id },
        'status page link handed out',
      );
      await reply(
        renderStatusLinkReply(link.url, link.expiresAt, release ? releaseTitle(release) : undefined),
      );
      return;
    }
    case 'list': {
      const numbered = (releases: Release[]) => withAttemptNumbers(deps.store, teamId, releases);
      const [active, recent] = await Promise.all([
        deps.store.listActive(teamId).then(numbered),
        deps.store.listRecent(teamId, 10).then(numbered),
      ]);
      await reply(
        renderReleaseList(active, recent, await loadPermalinks(deps, teamId, [...active, ...recent])),
      );
      return;
    }
    case 'log': {
      const found = await findAttempt(deps.store, teamId, parsed.version, parsed.env, parsed.attempt);
      if (!found.ok) return void (await refuse(found.error));
      const release = found.value;
      const shared = await shareDeploymentLog(
        deps,
        teamId,
        release.id,
        `Deployment log, as of now, asked for by <@${command.user_id}>.`,
      );
      await reply({
        text: shared
          ? `Shared the deployment log of ${releaseTitle(release)} in its thread (Markdown and JSON).`
          : `${releaseTitle(release)} has no thread to share its log in yet; try again in a moment.`,
      });
      return;
    }
    case 'stats': {
      const args = parseStatsArguments(parsed.argumentsText, deps.config.environments);
      if (!args.ok) return void (await reply({ text: args.problem }));
      const now = Date.now();
      const from = now - args.days * DAY_MS;
      // Releases deployed or with issues in the period may have started a while before it.
      const releases = await deps.store.releasesStartedBetween(teamId, from - STATS_LOOKBACK_MS, now);
      const records = await Promise.all(
        releases.map(async (release) => ({
          release,
          events: await deps.store.readAudit(teamId, release.id),
        })),
      );
      const stats = computeDeliveryStats(records, { from, to: now, ...(args.env ? { env: args.env } : {}) });
      const rendered = renderDeliveryStats(stats, now);
      const cutoff = await deps.store.retention.cutoff(teamId);
      const blocks = [...rendered.blocks];
      if (cutoff !== undefined && cutoff > from - STATS_LOOKBACK_MS) {
        blocks.push({
          type: 'context',
          elements: [
            {
              type: 'mrkdwn',
              text: `Records of releases that ended before ${formatSlackDate(cutoff, '{date_long_pretty}')} were removed (RETENTION_DAYS ${deps.config.retentionDays}); the figures cover what is left.`,
            },
          ],
        });
      }
      await reply({ text: rendered.text, blocks });
      return;
    }
    case 'locks': {
      const locks = await deps.store.locks.list(teamId);
      const holders = await Promise.all(locks.map((lock) => deps.store.getRelease(teamId, lock.releaseId)));
      await reply(renderLocks(locks.map((lock, index) => ({ lock, holder: holders[index] }))));
      return;
    }
    case 'audit': {
      const found = await findAttempt(deps.store, teamId, parsed.version, parsed.env, parsed.attempt);
      if (!found.ok) return void (await refuse(found.error));
      const release = found.value;
      if (parsed.verify) {
        const anchor = await readHeaderAnchor(deps, release);
        const report = await verifyReleaseAudit(deps, release, anchor, Date.now());
        deps.log.info(
          {
            teamId,
            releaseId: release.id,
            events: report.events,
            problems: report.problems,
            anchor: anchor.state,
          },
          'audit trail verified',
        );
        await reply(
          renderAuditVerdict(
            release,
            report,
            await deps.store.readAudit(teamId, release.id).catch(() => []),
            anchor.state,
          ),
        );
        return;
      }
      const [events, people] = await Promise.all([
        deps.store.readAudit(teamId, release.id),
        deps.store.people.forRelease(teamId, release.id),
      ]);
      await reply(renderAudit(release, events, people));
      return;
    }
    case 'cancel': {
      const found = await findActiveRelease(deps.store, teamId, parsed.version, parsed.env);
      if (!found.ok) return void (await refuse(found.error));
      // Its confirmation is a notice derived from the record, so it survives a crash right after the commit.
      const outcome = await cancelRelease(deps, {
        teamId,
        releaseId: found.value.id,
        userId: command.user_id,
        reason: parsed.reason,
        requestId: command.trigger_id,
        replyUrl: command.response_url,
      });
      if (!outcome.ok) await refuse(outcome.error);
      return;
    }
    case 'rollback': {
      const found = await findActiveRelease(deps.store, teamId, parsed.version, parsed.env);
      if (!found.ok) return void (await refuse(found.error));
      // A confirmation first: it shows the template's rollback criteria, with the reason filled in.
      await openRollbackConfirmation(
        deps,
        found.value,
        command.user_id,
        command.trigger_id,
        (text) => reply({ text }),
        parsed.reason,
      );
      return;
    }
    case 'override_freeze': {
      const found = await findActiveRelease(deps.store, teamId, parsed.version, parsed.env);
      if (!found.ok) return void (await refuse(found.error));
      const outcome = await overrideFreeze(deps, {
        teamId,
        releaseId: found.value.id,
        userId: command.user_id,
        reason: parsed.reason,
        requestId: command.trigger_id,
      });
      if (!outcome.ok) return void (await refuse(outcome.error));
      await reply({
        text: `❄️ Freeze overridden for ${releaseTitle(found.value)}: its deployment may go on, on the record.`,
      });
      return;
    }
    case 'token_create': {
      const request = {
        teamId,
        userId: command.user_id,
        name: parsed.name,
        environments: parsed.environments,
        // Releases its pipeline starts are posted where the token was made (unless DEPLOY_CHANNEL says).
        channelId: command.channel_id,
      };
      const created = await createPipelineToken(deps, request);
      if (!created.ok) return void (await refuse(created.error));
      // The only place the secret goes: this ephemeral reply (never a log line).
      await reply(renderTokenCreated(created.value.token, created.value.secret));
      return;
    }
    case 'token_list': {
      const tokens = await listPipelineTokens(deps, { teamId, userId: command.user_id });
      if (!tokens.ok) return void (await refuse(tokens.error));
      await reply(renderTokenList(tokens.value));
      return;
    }
    case 'token_revoke': {
      const revoked = await revokePipelineToken(deps, { teamId, userId: command.user_id, name: parsed.name });
      if (!revoked.ok) return void (await refuse(revoked.error));
      await reply(renderTokenRevoked(parsed.name));
      return;
    }
    case 'reschedule': {
      const found = await findActiveRelease(deps.store, teamId, parsed.version, parsed.env);
      if (!found.ok) return void (await refuse(found.error));
      const window = await readWindow(deps, parsed.windowText, command.user_id);
      if (!window.ok) return void (await refuse(window.error));
      const outcome = await rescheduleRelease(deps, {
        teamId,
        releaseId: found.value.id,
        userId: command.user_id,
        window: window.value,
        requestId: command.trigger_id,
      });
      if (!outcome.ok) return void (await refuse(outcome.error));
      await reply({
        text: `${releaseTitle(found.value)} is now planned for ${formatSlackDate(window.value.at, '{date_long_pretty} {time}')} (${window.value.zone}).`,
      });
      return;
    }
  }
}

/** Reads a window in the user's own Slack time zone (UTC when Slack does not say). */
async function readWindow(deps: SlackDeps, text: string, userId: string): Promise<Result<DeployWindow>> {
  const defaultZone = (await deps.outbound.getUserTimeZone(userId)) ?? 'UTC';
  const parsed = parseWindow(text, { now: Date.now(), defaultZone });
  if (parsed.ok) return ok(parsed.value);
  const { error } = parsed;
  switch (error.code) {
    case 'time_in_past':
      return fail({ code: 'window_invalid', text, problem: 'in_past', at: error.at });
    case 'zone_unknown':
      return fail({ code: 'window_invalid', text, problem: 'zone_unknown', zone: error.zone });
    case 'time_unreadable':
      return fail({ code: 'window_invalid', text, problem: 'unreadable' });
  }
}

function pickDefault(available: readonly string[], preferred: string): string {
  return available.includes(preferred) ? preferred : available[0]!;
}

async function loadPermalinks(
  deps: SlackDeps,
  teamId: string,
  releases: Release[],
): Promise<Map<string, string>> {
  const permalinks = new Map<string, string>();
  await Promise.all(
    releases.map(async (release) => {
      const { permalink } = await deps.store.messages.get(teamId, release.id);
      if (permalink) permalinks.set(release.id, permalink);
    }),
  );
  return permalinks;
}
