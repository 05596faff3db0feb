import type { IncomingMessage, ServerResponse } from 'node:http';
import { App, HTTPReceiver, type Receiver, SocketModeReceiver } from '@slack/bolt';
import { createBoltLogger } from '../log.js';
import type { SlackDeps } from './deps.js';
import { registerDeployCommand } from './listeners/deploy-command.js';
import { registerGateOverride } from './listeners/gate-override.js';
import { registerItemActions } from './listeners/item-actions.js';

export interface SlackAppHandle {
  app: App;
  start(): Promise<void>;
  stop(): Promise<void>;
}

export function createSlackApp(deps: SlackDeps, isHealthy: () => Promise<boolean>): SlackAppHandle {
  const { config } = deps;
  const logger = createBoltLogger(deps.log);
  const healthRoute = {
    path: '/healthz',
    method: ['GET'],
    handler: (_req: IncomingMessage, res: ServerResponse) => {
      isHealthy().then(
        (healthy) => {
          res.writeHead(healthy ? 200 : 503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: healthy, redis: healthy ? 'up' : 'down' }));
        },
        () => {
          res.writeHead(503, { 'content-type': 'application/json' });
          res.end(JSON.stringify({ ok: false, redis: 'down' }));
        },
      );
    },
  };

  let receiver: Receiver;
  if (config.slack.mode === 'socket') {
    receiver = new SocketModeReceiver({
      appToken: config.slack.appToken!,
      logger,
      customRoutes: [healthRoute],
      // The Socket Mode client opens its connection through the Web API, so it needs the same base URL.
      installerOptions: {
        port: config.port,
        ...(config.slack.apiUrl ? { clientOptions: { slackApiUrl: config.slack.apiUrl } } : {}),
      },
    });
  } else {
    // Signature verification stays on (Bolt's default): every request to /slack/events must be signed.
    receiver = new HTTPReceiver({
      signingSecret: config.slack.signingSecret!,
      endpoints: '/slack/events',
      customRoutes: [healthRoute],
      logger,
      processBeforeResponse: false,
    });
  }

  const app = new App({
    token: config.slack.botToken,
    receiver,
    logger,
    clientOptions: config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {},
  });
  registerDeployCommand(app, deps);
  registerItemActions(app, deps);
  registerGateOverride(app, deps);
  app.error(async (error) => {
    deps.log.error({ err: error, code: (error as { code?: string }).code }, 'unhandled bolt error');
  });

  return {
    app,
    async start() {
      if (config.slack.mode === 'socket') await app.start();
      else await app.start(config.port);
    },
    async stop() {
      await app.stop();
    },
  };
}
