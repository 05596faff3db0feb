import type { BlockAction, ButtonAction } from '@slack/bolt';
import { ActionId, decodeUserId } from '../../views/ids.js';
import { describeUserError } from '../../views/user-errors.js';
import type { SlackDeps } from '../deps.js';
import { runGuarded } from '../guard.js';
import type { ListenerApp } from '../router.js';

// "Tell me when it's free" under a refusal because another release holds the environment: the
// person is told by DM once the holder completes, is rolled back or is cancelled. Pressed after the
// holder already ended, it says the environment is free now instead of promising a DM that would
// only come when some later release takes and frees it.

export function registerLockActions(app: ListenerApp, deps: SlackDeps): void {
  app.action<BlockAction<ButtonAction>>(ActionId.notifyWhenFree, async ({ ack, body, action, respond }) => {
    await ack();
    const tell = (text: string) => respond({ response_type: 'ephemeral', replace_original: false, text });
    const teamId = body.team?.id;
    const userId = decodeUserId(body.user);
    const env = action.value ?? '';
    // The value comes back from Slack; only a configured environment is taken from it.
    if (!teamId || !userId || !deps.config.environments.includes(env)) {
      return void (await tell(describeUserError({ code: 'payload_invalid' })).catch(() => {}));
    }
    await runGuarded(deps.log, { teamId, env, userId }, tell, async () => {
      const outcome = await deps.store.locks.addWaiterWhileHeld(teamId, env, userId);
      if (outcome === 'free') {
        deps.log.info({ teamId, env, userId }, 'environment already free');
        return void (await tell(`${env} is free now: no release is deploying there.`));
      }
      deps.log.info({ teamId, env, userId, outcome }, 'waiting for an environment');
      await tell(`I'll send you a direct message when ${env} is free.`);
    });
  });
}
