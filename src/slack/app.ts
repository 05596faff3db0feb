import type { IncomingMessage, RequestListener } from 'node:http';
import { type AnyMiddlewareArgs, App, HTTPReceiver, SocketModeReceiver } from '@slack/bolt';
import { createBoltLogger } from '../log.js';
import type { SlackDeps } from './deps.js';
import { registerCheckinActions } from './listeners/checkins.js';
import { registerDeployCommand } from './listeners/deploy-command.js';
import { registerFreezeActions } from './listeners/freeze.js';
import { registerGateOverride } from './listeners/gate-override.js';
import { registerHome } from './listeners/home.js';
import { registerItemActions } from './listeners/item-actions.js';
import { registerItemValueActions } from './listeners/item-values.js';
import { registerLockActions } from './listeners/locks.js';
import { registerOwnerActions } from './listeners/owners.js';
import { registerReminderActions } from './listeners/reminders.js';
import { registerRetrospective } from './listeners/retrospective.js';
import { registerRollbackActions } from './listeners/rollback.js';
import { registerStartForm } from './listeners/start-form.js';
import { registerStopAndGoActions } from './listeners/stop-and-go.js';
import { unmatchedRequests } from './listeners/unmatched.js';
import { createProcessEventErrorHandler, refuseMalformedRequests } from './request-guard.js';
import { createListenerRouter } from './router.js';

export interface SlackAppHooks {
  observeAck(kind: string, seconds: number): void;
  /** Work a request does after its ack: shutdown waits for it. */
  track(work: Promise<unknown>): void;
}

/** Shared with the middleware through Bolt's context, which every middleware sees as the same object. */
export interface RequestTiming {
  kind: string;
  receivedAt: number;
}

export interface SlackAppHandle {
  app: App;
  /** HTTP mode: the handler for POST /slack/events, to mount on shipcheck's server. */
  requestListener: RequestListener | undefined;
  /** HTTP mode: the server calls this when its response to Slack (the ack) has gone out. */
  onResponseSent(req: IncomingMessage): void;
  /** Socket Mode: connects. HTTP mode: nothing to do; requests come through requestListener. */
  start(): Promise<void>;
  /** Socket Mode: disconnects, so no new requests arrive. */
  stopIntake(): Promise<void>;
}

function requestKind(args: AnyMiddlewareArgs): string {
  if ('command' in args) return 'command';
  if ('action' in args) return 'action';
  if ('view' in args) return 'view';
  if ('event' in args) return 'event';
  if ('options' in args) return 'options';
  if ('shortcut' in args) return 'shortcut';
  return 'other';
}

/** The kind as far as the transport tells; the middleware refines it before any listener acks. */
function kindFromHttpRequest(req: IncomingMessage & { rawBody?: Buffer }): string {
  if (String(req.headers['content-type']).startsWith('application/json')) return 'event';
  return req.rawBody?.subarray(0, 200).includes('command=') ? 'command' : 'interactive';
}

/** An envelope not acked within this long never will be (Slack gave up after 3 s): its timing goes. */
const UNACKED_ENVELOPE_MS = 60_000;
/** The map is swept only once it holds this many, so a steady flow of acks costs nothing extra. */
const SWEEP_ABOVE = 1000;

export function forgetUnackedEnvelopes(timings: Map<string, RequestTiming>, now: number): void {
  if (timings.size < SWEEP_ABOVE) return;
  for (const [envelopeId, timing] of timings) {
    if (now - timing.receivedAt > UNACKED_ENVELOPE_MS) timings.delete(envelopeId);
  }
}

const SOCKET_KINDS: Record<string, string> = {
  slash_commands: 'command',
  interactive: 'interactive',
  events_api: 'event',
};

export function createSlackApp(deps: SlackDeps, hooks: SlackAppHooks): SlackAppHandle {
  const { config } = deps;
  const logger = createBoltLogger(deps.log);
  const isSocketMode = config.slack.mode === 'socket';

  // Ack latency is measured where the ack leaves: the HTTP response, or the Socket Mode envelope.
  const httpTimings = new WeakMap<IncomingMessage, RequestTiming>();
  const socketTimings = new Map<string, RequestTiming>();
  const observe = (timing: RequestTiming) =>
    hooks.observeAck(timing.kind, (performance.now() - timing.receivedAt) / 1000);

  const receiver = isSocketMode
    ? new SocketModeReceiver({
        appToken: config.slack.appToken!,
        logger,
        // The Socket Mode client opens its connection through the Web API, so it needs the same base URL.
        installerOptions: config.slack.apiUrl ? { clientOptions: { slackApiUrl: config.slack.apiUrl } } : {},
        customPropertiesExtractor: (args) => {
          const envelope = args as { envelope_id?: string; type?: string };
          const timing = {
            kind: SOCKET_KINDS[envelope.type ?? ''] ?? 'other',
            receivedAt: performance.now(),
          };
          if (envelope.envelope_id) {
            forgetUnackedEnvelopes(socketTimings, timing.receivedAt);
            socketTimings.set(envelope.envelope_id, timing);
          }
          return { requestTiming: timing };
        },
      })
    : // Signature verification stays on (Bolt's default): every request to /slack/events must be signed.
      new HTTPReceiver({
        signingSecret: config.slack.signingSecret!,
        endpoints: '/slack/events',
        logger,
        processBeforeResponse: false,
        processEventErrorHandler: createProcessEventErrorHandler(deps.log),
        customPropertiesExtractor: (req) => {
          const timing = { kind: kindFromHttpRequest(req), receivedAt: performance.now() };
          httpTimings.set(req, timing);
          return { requestTiming: timing };
        },
      });
  if (receiver instanceof SocketModeReceiver) {
    receiver.client.on('outgoing_message', (message: { envelope_id?: string }) => {
      const timing = message.envelope_id ? socketTimings.get(message.envelope_id) : undefined;
      if (!timing) return;
      socketTimings.delete(message.envelope_id!);
      observe(timing);
    });
  }

  const app = new App({
    token: config.slack.botToken,
    receiver,
    logger,
    clientOptions: config.slack.apiUrl ? { slackApiUrl: config.slack.apiUrl } : {},
  });

  // Runs first for every request: names the request's kind for the ack timing, and tracks the
  // listener's whole run (Bolt awaits listeners inside this chain), so that shutdown can wait for the
  // work done after an ack.
  app.use(async (args) => {
    const timing = (args.context as { requestTiming?: RequestTiming }).requestTiming;
    if (timing) timing.kind = requestKind(args);
    const work = args.next();
    hooks.track(work);
    await work;
  });

  // Listeners register with the router: Bolt then runs one action and one view listener per request.
  const listeners = createListenerRouter(app, unmatchedRequests(deps.log));
  registerDeployCommand(listeners, deps);
  registerItemActions(listeners, deps);
  registerItemValueActions(listeners, deps);
  registerGateOverride(listeners, deps);
  registerReminderActions(listeners, deps);
  registerCheckinActions(listeners, deps);
  registerOwnerActions(listeners, deps);
  registerLockActions(listeners, deps);
  registerFreezeActions(listeners, deps);
  registerRollbackActions(listeners, deps);
  registerStopAndGoActions(listeners, deps);
  registerStartForm(listeners, deps);
  registerRetrospective(listeners, deps);
  registerHome(listeners, deps);
  app.error(async (error) => {
    deps.log.error({ err: error, code: (error as { code?: string }).code }, 'unhandled bolt error');
  });

  return {
    app,
    requestListener:
      receiver instanceof HTTPReceiver
        ? refuseMalformedRequests(receiver.requestListener, config.slack.signingSecret!, deps.log)
        : undefined,
    onResponseSent(req) {
      const timing = httpTimings.get(req);
      // Requests refused before dispatch (a bad signature) have no timing: they were never acked.
      if (timing) observe(timing);
    },
    async start() {
      if (isSocketMode) await app.start();
    },
    async stopIntake() {
      if (isSocketMode) await app.stop();
    },
  };
}
