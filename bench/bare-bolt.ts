import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { CallbackId, StartField } from '../src/views/ids.js';

// The floor for the benchmark: a Bolt app on the same receiver settings as shipcheck (HTTP mode,
// signature verification on, ack before processing) that does nothing but ack, each request kind
// the way shipcheck acks it in the bench. Started by bench/run.ts in a child process; configured
// through the environment.

function required(name: string): string {
  const value = process.env[name];
  if (!value) {
    process.stderr.write(`bare-bolt: ${name} is required\n`);
    process.exit(1);
  }
  return value;
}

const port = Number(required('PORT'));
const receiver = new HTTPReceiver({
  signingSecret: required('SLACK_SIGNING_SECRET'),
  endpoints: '/slack/events',
  processBeforeResponse: false,
  logLevel: LogLevel.WARN,
});
const app = new App({
  token: required('SLACK_BOT_TOKEN'),
  receiver,
  logLevel: LogLevel.WARN,
  // auth.test (for the bot token) goes to the local Slack stand-in, as shipcheck's does.
  clientOptions: { slackApiUrl: required('SLACK_API_URL') },
});

app.action(/.*/, async ({ ack }) => {
  await ack();
});

app.command(/.*/, async ({ ack }) => {
  await ack();
});

// The bench submits the start form with an invalid version, which shipcheck answers in the ack with
// the form's errors; every other modal it submits is acked empty.
app.view(/.*/, async ({ ack, view }) => {
  if (view.callback_id === CallbackId.startRelease) {
    await ack({
      response_action: 'errors',
      errors: {
        [StartField.versionBlock]: 'Not a version: use letters, digits, dots and dashes, like v2.3.',
      },
    });
    return;
  }
  await ack();
});

await app.start(port);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  app.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
