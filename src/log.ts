import type { Logger as BoltLogger, LogLevel } from '@slack/bolt';
import { type Logger, pino } from 'pino';

export type { Logger };

// Tokens and secrets never reach a log line: these paths are censored wherever they appear.
const REDACT_PATHS = [
  'token',
  '*.token',
  'headers.authorization',
  '*.headers.authorization',
  'botToken',
  'appToken',
  'signingSecret',
  '*.botToken',
  '*.appToken',
  '*.signingSecret',
];

export function createLogger(level: string, destination?: NodeJS.WritableStream): Logger {
  return pino(
    {
      level,
      base: { service: 'shipcheck' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      serializers: { err: pino.stdSerializers.err },
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
