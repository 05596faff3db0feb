import type { Logger as BoltLogger, LogLevel } from '@slack/bolt';
import { type Logger, pino } from 'pino';

export type { Logger };

// Tokens and secrets never reach a log line. Known field names are censored by path; on top of that,
// every string logged (message, fields, error text) is scrubbed of Slack token shapes and of the
// configured secret values, wherever they appear.
const REDACT_PATHS = [
  'token',
  '*.token',
  'headers.authorization',
  '*.headers.authorization',
  'botToken',
  'appToken',
  'signingSecret',
  'auditKey',
  '*.auditKey',
  '*.botToken',
  '*.appToken',
  '*.signingSecret',
];

const CENSOR = '[redacted]';
const SLACK_TOKEN_PATTERN = /\b(?:xox[abposre]|xapp)-[A-Za-z0-9-]+/g;
const MAX_SCRUB_DEPTH = 8;

export function createSecretScrubber(secrets: readonly (string | undefined)[]) {
  const known = secrets.filter(
    (secret): secret is string => typeof secret === 'string' && secret.length >= 6,
  );
  const scrubText = (text: string): string => {
    let clean = text.replace(SLACK_TOKEN_PATTERN, CENSOR);
    for (const secret of known) clean = clean.split(secret).join(CENSOR);
    return clean;
  };
  const scrub = (value: unknown, depth = 0): unknown => {
    if (typeof value === 'string') return scrubText(value);
    // Errors keep their type for pino's err serializer, which scrubs what it produces.
    if (value === null || typeof value !== 'object' || value instanceof Error || depth > MAX_SCRUB_DEPTH)
      return value;
    if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, scrub(item, depth + 1)]));
  };
  return scrub;
}

export function createLogger(
  level: string,
  destination?: NodeJS.WritableStream,
  secrets: readonly (string | undefined)[] = [],
): Logger {
  const scrub = createSecretScrubber(secrets);
  return pino(
    {
      level,
      base: { service: 'shipcheck' },
      redact: { paths: REDACT_PATHS, censor: CENSOR },
      serializers: { err: (err: Error) => scrub(pino.stdSerializers.err(err)) },
      hooks: {
        logMethod(args, method) {
          method.apply(this, args.map((arg) => scrub(arg)) as Parameters<typeof method>);
        },
      },
    },
    destination as pino.DestinationStream | undefined,
  );
}

const BOLT_TO_PINO: Record<string, string> = { debug: 'debug', info: 'info', warn: 'warn', error: 'error' };

/** Bolt and the Slack SDKs log through this adapter, so their lines share pino's format and redaction. */
export function createBoltLogger(log: Logger): BoltLogger {
  let level = log.level as LogLevel;
  const write =
    (method: 'debug' | 'info' | 'warn' | 'error') =>
    (...parts: unknown[]) => {
      const error = parts.find((part): part is Error => part instanceof Error);
      const text = parts
        .filter((part) => !(part instanceof Error))
        .map((part) => (typeof part === 'string' ? part : JSON.stringify(part)))
        .join(' ');
      if (error) log[method]({ err: error, component: 'bolt' }, text || error.message);
      else log[method]({ component: 'bolt' }, text);
    };
  return {
    debug: write('debug'),
    info: write('info'),
    warn: write('warn'),
    error: write('error'),
    setLevel(next: LogLevel) {
      level = next;
    },
    getLevel: () => (BOLT_TO_PINO[level] ? level : ('info' as LogLevel)),
    setName() {},
  };
}
