import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/env.js';
import { current, waitForHeader, waitForPhase, waitForReply } from '../e2e/helpers.js';
import { clickButton, createSlashCommand, postSigned } from '../support/slack-requests.js';
import { SlackStandIn } from '../support/slack-stand-in.js';
import { SocketModeStandIn } from '../support/socket-mode-stand-in.js';
import { expectNoSecretsLeaked, type SecurityApp, startSecurityApp, waitUntilSettled } from './support.js';

// No token or secret in any log line (at debug level, Bolt's and the Slack SDK's lines included),
// HTTP answer, message or error text, also when Slack fails, requests are forged or unreadable, or the
// configuration is wrong. Every other security test file checks its own app's logs the same way at
// its end; here the failures are provoked on purpose. The logger used here has no list of secrets to
// scrub (the production one does): what is checked is that shipcheck does not log them at all.

const apps: SecurityApp[] = [];
const standIns: { stop(): Promise<void> }[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
  for (const standIn of standIns.splice(0).reverse()) await standIn.stop();
});

/** Log lines at warn level or above, as parsed JSON. */
function problems(app: SecurityApp): { msg: string; level: number }[] {
  return app.logLines
    .map((line) => JSON.parse(line) as { msg: string; level: number })
    .filter((line) => line.level >= 40);
}

describe('secrets', () => {
  it('stay out of logs and answers while Slack fails, requests are forged and payloads unreadable', async () => {
    const app = await startSecurityApp({ env: { LOG_LEVEL: 'debug' } });
    apps.push(app);
    // Slack fails in each way it can: a 500, a rate limit, an auth error, a revoked token.
    app.standIn.misbehave('chat.postMessage', { kind: 'server_error' }, 1);
    app.standIn.misbehave('chat.postMessage', { kind: 'rate_limited', retryAfterSec: 1 }, 1);
    app.standIn.misbehave('users.info', { kind: 'error', error: 'token_revoked' }, 1);
    await app.command('start v1.0 staging minimal at tomorrow 14:00');
    const header = await waitForHeader(app, 'v1.0 → staging');
    await waitForPhase(app, header, 'Before the deploy');
    app.standIn.misbehave('views.open', { kind: 'error', error: 'invalid_auth' }, 1);
    const responseUrl = app.standIn.responseUrl('failed-modal');
    await app.interact(
      clickButton(current(app, header) as never, { actionId: 'gate.override.open' }, { responseUrl }),
    );
    await waitForReply(app, 'failed-modal', /error id `E-[0-9A-F]{8}`/);

    // Forged, stale and unreadable requests, each logged by Bolt or shipcheck.
    const body = new URLSearchParams({ ...createSlashCommand({ text: 'list' }) }).toString();
    const forged = await postSigned(app.url, body, { signingSecret: `${app.signingSecret}x` });
    const stale = await postSigned(app.url, body, {
      signingSecret: app.signingSecret,
      timestampSec: Math.floor(Date.now() / 1000) - 600,
    });
    const unreadable = await postSigned(app.url, 'payload=null', { signingSecret: app.signingSecret });
    const userless = await app.interact({ type: 'block_actions', actions: [{ action_id: 'release.go' }] });
    expect([forged.status, stale.status, unreadable.status, userless.status]).toEqual([401, 401, 400, 400]);
    await waitUntilSettled(app);

    // The failures happened and were logged, errors included: the check below has something to look
    // at. (How a failed Slack call is retried, and so worded, is the outbound client's own business.)
    expect(problems(app).map((line) => line.msg)).toEqual(
      expect.arrayContaining(
        [
          /^Failed to parse and verify the request data: .*signature mismatch/,
          /^Failed to parse and verify the request data: .*stale/,
          /^request failed$/,
          /^slack request body is not an object$/,
          /^slack request payload malformed$/,
        ].map((pattern) => expect.stringMatching(pattern)),
      ),
    );
    expect(problems(app).length).toBeGreaterThan(5);
    expect(app.logLines.some((line) => /"level":20/.test(line))).toBe(true);
    expectNoSecretsLeaked(app);
  });

  it('stay out of logs in Socket Mode, the app token included', async () => {
    const api = await SlackStandIn.start();
    standIns.push(api);
    const socket = await SocketModeStandIn.start(api);
    standIns.push(socket);
    const app = await startSecurityApp({ standIn: api, socketMode: true, env: { LOG_LEVEL: 'debug' } });
    apps.push(app);
    await api.waitFor(() => socket.connected, 5000, 'the Socket Mode connection');
    socket.send(
      'slash_commands',
      createSlashCommand({ text: 'start v1.0 staging minimal', response_url: api.responseUrl() }),
    );
    const header = await waitForHeader(app, 'v1.0 → staging');
    await waitForPhase(app, header, 'Before the deploy');
    api.misbehave('views.open', { kind: 'error', error: 'invalid_auth' }, 1);
    const failed = socket.send(
      'interactive',
      clickButton(
        current(app, header) as never,
        { actionId: 'gate.override.open' },
        { responseUrl: api.responseUrl('socket-failure') },
      ),
    );
    await waitForReply(app, 'socket-failure', /error id `E-[0-9A-F]{8}`/);
    // The ack travels over the socket, the reply over HTTP: either may land first.
    await app.standIn.waitFor(
      () => socket.acks.some((ack) => ack.envelope_id === failed),
      5000,
      'the failed envelope acknowledged',
    );
    expect(socket.acks.map((ack) => ack.envelope_id)).toContain(failed);
    // The token went to Slack as the credential of apps.connections.open, and nowhere else.
    expect(api.callsTo('apps.connections.open').map((call) => call.token)).toEqual([app.secrets[3]]);
    expect(problems(app).map((line) => line.msg)).toContain('request failed');
    expectNoSecretsLeaked(app);
  });

  it('are not named in configuration errors', () => {
    const botSecret = 'xoxp-1234-abcdef-shouldnotshow';
    const appSecret = 'xoxb-9876-fedcba-shouldnotshow';
    const signingSecret = '  s3cr3t-signing-value-shouldnotshow  ';
    let error: unknown;
    try {
      loadConfig({
        // A user token where a bot token belongs, a bot token where the app token belongs.
        SLACK_BOT_TOKEN: botSecret,
        SLACK_APP_TOKEN: appSecret,
        SLACK_SIGNING_SECRET: signingSecret,
        PORT: 'not-a-port',
      });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const text = `${(error as Error).message}\n${(error as Error).stack}\n${JSON.stringify(error)}`;
    expect(text).toContain('SLACK_BOT_TOKEN: must be a bot token starting with xoxb-');
    expect(text).toContain('SLACK_APP_TOKEN: must be an app-level token starting with xapp-');
    for (const secret of [botSecret, appSecret, signingSecret.trim(), 'shouldnotshow'])
      expect(text).not.toContain(secret);
  });
});
