import { afterAll, beforeAll, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import { createSlashCommand } from '../support/slack-requests.js';
import { SlackStandIn } from '../support/slack-stand-in.js';
import { SocketModeStandIn } from '../support/socket-mode-stand-in.js';
import { current, plainItemIds, waitForHeader, waitForItem, waitForPhase } from './helpers.js';

// Socket Mode, the laptop set-up from the README: the same commands and clicks over a WebSocket.

let api: SlackStandIn;
let socket: SocketModeStandIn;
let app: TestApp;

beforeAll(async () => {
  api = await SlackStandIn.start();
  socket = await SocketModeStandIn.start(api);
  app = await startTestApp({
    standIn: api,
    env: { SLACK_APP_TOKEN: 'xapp-test-token', SLACK_SIGNING_SECRET: '' },
  });
  await api.waitFor(() => socket.connected, 5000, 'socket mode connection');
});
afterAll(async () => {
  await app?.stop();
  await socket?.stop();
  await api?.stop();
});

it('runs /deploy start and a tick over Socket Mode, acknowledging each envelope', async () => {
  const command = createSlashCommand({ text: 'start v1.0 staging minimal', response_url: api.responseUrl() });
  const commandEnvelope = socket.send('slash_commands', command);
  await api.waitFor(
    () => socket.acks.some((ack) => ack.envelope_id === commandEnvelope),
    3000,
    'command ack',
  );
  const header = await waitForHeader(app, 'v1.0 → staging');
  const phase = await waitForPhase(app, header, 'Before the deploy');

  const [itemId] = plainItemIds('minimal', 0);
  const clickEnvelope = socket.send(
    'interactive',
    app.tickPayload(current(app, phase), itemId!, true, 'U0BOB'),
  );
  await api.waitFor(() => socket.acks.some((ack) => ack.envelope_id === clickEnvelope), 3000, 'click ack');
  await waitForItem(app, phase, itemId!, true);
  expect(api.callsTo('apps.connections.open')[0]?.token).toBe('xapp-test-token');
});
