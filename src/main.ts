import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { ChecklistError, loadTemplates } from './config/checklists.js';
import { type Config, ConfigError, loadConfig } from './config/env.js';
import { SyncQueue } from './jobs/sync-queue.js';
import { createSyncWorker } from './jobs/sync-worker.js';
import { createLogger, type Logger } from './log.js';
import { createSlackApp } from './slack/app.js';
import { SlackOutbound } from './slack/outbound.js';
import { ReleaseStore } from './store/release-store.js';

export interface Shipcheck {
  stop(): Promise<void>;
}

/** The composition root: config → logger → Redis → store → queue → worker → Slack app. */
export async function startShipcheck(
  config: Config,
  log: Logger = createLogger(config.logLevel),
): Promise<Shipcheck> {
  const templates = await loadTemplates(path.resolve(config.checklistsDir));
  log.info({ templates: [...templates.keys()], mode: config.slack.mode }, 'checklists loaded');

  // The request path fails fast while Redis is away, so users get "try again" instead of a hang.
  const redis = new Redis(config.redis.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
  });
  redis.on('error', (err) => log.warn({ err: { message: err.message } }, 'redis connection error'));
  await redis.connect();

  // BullMQ connections wait for Redis instead of failing: jobs must survive a Redis restart.
  const queueConnection = new Redis(config.redis.url, { maxRetriesPerRequest: null });
  const workerConnection = new Redis(config.redis.url, { maxRetriesPerRequest: null });
  for (const connection of [queueConnection, workerConnection]) {
    connection.on('error', (err) =>
      log.warn({ err: { message: err.message } }, 'redis (jobs) connection error'),
    );
  }

  const store = new ReleaseStore(redis, config.redis.prefix);
  const syncQueue = new SyncQueue(queueConnection, config.redis.prefix);
  const outbound = new SlackOutbound(
    {
      token: config.slack.botToken,
      apiUrl: config.slack.apiUrl,
      postIntervalMs: config.slack.postIntervalMs,
      updateIntervalMs: config.slack.updateIntervalMs,
    },
    store,
    log.child({ component: 'outbound' }),
  );
  const notify = async (responseUrl: string, text: string) => {
    const response = await fetch(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
    });
    if (!response.ok) throw new Error(`response_url answered ${response.status}`);
  };
  const worker = createSyncWorker(
    workerConnection,
    config.redis.prefix,
    { store, outbound, log, notify },
    log,
  );

  const slack = createSlackApp({ config, log, store, syncQueue, outbound, templates }, async () => {
    const answer = await Promise.race([
      redis.ping(),
      new Promise((resolve) => setTimeout(() => resolve('timeout'), 1000)),
    ]);
    return answer === 'PONG';
  });
  await slack.start();
  log.info({ port: config.port, mode: config.slack.mode }, 'shipcheck started');

  let stopping: Promise<void> | undefined;
  return {
    stop() {
      stopping ??= (async () => {
        await slack.stop().catch((err: unknown) => log.warn({ err }, 'slack app stop failed'));
        await worker.close();
        await syncQueue.close();
        await Promise.allSettled([redis.quit(), queueConnection.quit(), workerConnection.quit()]);
        log.info('shipcheck stopped');
      })();
      return stopping;
    },
  };
}

const SHUTDOWN_DEADLINE_MS = 25_000;

async function runFromCommandLine(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel);
  let shipcheck: Shipcheck;
  try {
    shipcheck = await startShipcheck(config, log);
  } catch (err) {
    if (err instanceof ChecklistError) process.stderr.write(`${err.message}\n`);
    else log.fatal({ err }, 'shipcheck failed to start');
    process.exit(1);
  }
  const shutdown = (signal: string) => {
    log.info({ signal }, 'shutting down');
    setTimeout(() => {
      log.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, SHUTDOWN_DEADLINE_MS).unref();
    shipcheck.stop().then(() => process.exit(0));
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runFromCommandLine();
}
