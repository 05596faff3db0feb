import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { RoleDirectory } from './app/access.js';
import { Relay } from './app/relay.js';
import { ChecklistError, loadTemplates } from './config/checklists.js';
import { type Config, ConfigError, loadConfig } from './config/env.js';
import { createPipelineApi } from './http/api/router.js';
import { createOperationalRoutes, type ReadinessCheck } from './http/health.js';
import { createStatusPages } from './http/pages/status-pages.js';
import { HttpServer, type Mount } from './http/server.js';
import { createHomeRefreshWorker } from './jobs/home-refresh.js';
import { createRetentionWorker } from './jobs/retention.js';
import { createScheduleWorker } from './jobs/schedule-worker.js';
import { createSyncWorker } from './jobs/sync-worker.js';
import { createLogger, type Logger } from './log.js';
import { createMetrics } from './metrics.js';
import { PrometheusClient } from './metrics-source/prometheus.js';
import { HomeRefreshQueue } from './queues/home-refresh-queue.js';
import { RetentionSchedule } from './queues/retention-schedule.js';
import { Scheduler } from './queues/scheduler.js';
import { SyncQueue } from './queues/sync-queue.js';
import { createSlackApp, type SlackAppHandle } from './slack/app.js';
import { SlackOutbound } from './slack-api/outbound.js';
import { LogArchive } from './store/log-archive.js';
import { Pacer } from './store/pacer.js';
import { RelayStore } from './store/relay-store.js';
import { ReleaseStore } from './store/release-store.js';

export interface Shipcheck {
  /** The port of the main HTTP server (Slack requests in HTTP mode, health, metrics). */
  readonly port: number;
  /** Drains and stops: no new requests, in-flight work finished, queued Slack updates flushed. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Resolves with the promise's outcome, or after `ms` at the latest; never rejects. */
async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), Math.max(0, ms));
  });
  const done = promise.then(
    () => true,
    () => true,
  );
  const finished = await Promise.race([done, timeout]);
  clearTimeout(timer);
  return finished;
}

/**
 * The composition root: config → logger → Redis → store → queue → worker and/or Slack app → HTTP.
 * SHIPCHECK_ROLE picks the parts: web answers Slack, worker runs the queues, all does both.
 */
export async function startShipcheck(
  config: Config,
  log: Logger = createLogger(config.logLevel),
): Promise<Shipcheck> {
  const runsWeb = config.role !== 'worker';
  const runsWorker = config.role !== 'web';
  const templates = await loadTemplates(path.resolve(config.checklistsDir));
  log.info(
    { templates: [...templates.keys()], mode: config.slack.mode, role: config.role },
    'checklists loaded',
  );

  // The request path fails fast while Redis is away, so users get "try again" instead of a hang.
  const redis = new Redis(config.redis.url, {
    lazyConnect: true,
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    connectTimeout: 5000,
    // Commands issued in the same tick (many clicks, many reminders at once) go out in one write.
    enableAutoPipelining: true,
  });
  redis.on('error', (err) => log.warn({ err: { message: err.message } }, 'redis connection error'));
  await redis.connect();

  // BullMQ connections wait for Redis instead of failing: jobs must survive a Redis restart.
  const queueConnection = new Redis(config.redis.url, { maxRetriesPerRequest: null });
  const workerConnection = runsWorker
    ? new Redis(config.redis.url, { maxRetriesPerRequest: null })
    : undefined;
  for (const connection of [queueConnection, workerConnection]) {
    connection?.on('error', (err) =>
      log.warn({ err: { message: err.message } }, 'redis (jobs) connection error'),
    );
  }

  const store = new ReleaseStore(redis, config.redis.prefix);
  const metrics = createMetrics({ countActiveReleases: () => store.retention.countActiveReleases() });
  const syncQueue = new SyncQueue(queueConnection, config.redis.prefix);
  const outbound = new SlackOutbound(
    {
      token: config.slack.botToken,
      apiUrl: config.slack.apiUrl,
      postIntervalMs: config.slack.postIntervalMs,
      updateIntervalMs: config.slack.updateIntervalMs,
      homeIntervalMs: config.slack.homeIntervalMs,
    },
    new Pacer(redis, store.keys),
    log.child({ component: 'outbound' }),
    metrics,
  );
  const scheduler = new Scheduler(queueConnection, config.redis.prefix, store, config);
  const relayStore = new RelayStore(redis, store.keys);
  // Every instance relays: its own commits at once, and anyone's that were left behind on each sweep.
  const relay = new Relay({
    relayStore,
    store,
    scheduler,
    syncQueue,
    people: store.people,
    log: log.child({ component: 'relay' }),
    settings: {
      checkinEscalateAfterMs: config.checkins.escalateAfterMs,
      sweepIntervalMs: config.relayIntervalMs,
    },
    metrics,
    auditKeys: config.auditKeys,
  });
  const roles = new RoleDirectory(config.access, outbound, log.child({ component: 'roles' }));
  // Success criteria with a query are measured here; without PROMETHEUS_URL check-ins ask as before.
  const metricsSource = config.prometheus ? new PrometheusClient(config.prometheus) : undefined;
  let worker: Worker | undefined;
  let scheduleWorker: Worker | undefined;
  let retentionWorker: Worker | undefined;
  let homeWorker: Worker | undefined;
  const homeRefresh = runsWorker ? new HomeRefreshQueue(queueConnection, config.redis.prefix) : undefined;
  const retention = runsWorker
    ? new RetentionSchedule(queueConnection, config.redis.prefix, redis, store.keys.retentionLock())
    : undefined;
  if (workerConnection) {
    worker = createSyncWorker(
      workerConnection,
      config.redis.prefix,
      { store, outbound, log, home: homeRefresh, roles },
      log,
      metrics,
    );
    scheduleWorker = createScheduleWorker(
      workerConnection,
      config.redis.prefix,
      {
        store,
        outbound,
        scheduler,
        syncQueue,
        config,
        log,
        roles,
        relay,
        metricsSource,
        app: { config, roles, templates, relay, relayStore, syncQueue },
      },
      metrics,
    );
    const retentionLog = log.child({ component: 'retention' });
    const archive = config.archiveDir ? new LogArchive(config.archiveDir) : undefined;
    // Said at start-up, so a missing mount shows long before the first release is due to go.
    if (!archive) retentionLog.warn('ARCHIVE_DIR is not set: releases past retention are kept, not removed');
    else
      await archive
        .probe()
        .catch((err: Error) =>
          retentionLog.warn(
            { archiveDir: archive.root, why: err.message },
            'archive folder not writable: releases past retention are kept until it is',
          ),
        );
    retentionWorker = createRetentionWorker(
      workerConnection,
      config.redis.prefix,
      {
        store,
        log: retentionLog,
        retentionDays: config.retentionDays,
        archive,
        metrics,
        auditKeys: config.auditKeys,
      },
      metrics,
    );
    homeWorker = createHomeRefreshWorker(
      workerConnection,
      config.redis.prefix,
      { store, roles, outbound, log: log.child({ component: 'home' }) },
      metrics,
    );
    await retention?.ensureScheduled();
  }

  let draining = false;
  const requestsInFlight = new Set<Promise<unknown>>();
  let slack: SlackAppHandle | undefined;
  if (runsWeb) {
    slack = createSlackApp(
      {
        config,
        log,
        store,
        syncQueue,
        outbound,
        templates,
        roles,
        relay,
        relayStore,
        observeCommit: (kind, seconds) => metrics.commitBeforeAck.observe({ kind }, seconds),
      },
      {
        observeAck: (kind, seconds) => metrics.ackDuration.observe({ kind }, seconds),
        track: (work) => {
          requestsInFlight.add(work);
          const forget = () => requestsInFlight.delete(work);
          work.then(forget, forget);
        },
      },
    );
  }

  const checks: ReadinessCheck[] = [
    { name: 'redis', check: async () => (await redis.ping()) === 'PONG' },
    { name: 'queue', check: async () => queueConnection.status === 'ready' },
  ];
  if (worker) {
    const runningWorker = worker;
    checks.push({ name: 'worker', check: async () => runningWorker.isRunning() && !runningWorker.closing });
  }
  const operational = createOperationalRoutes({
    checks,
    isDraining: () => draining,
    registry: metrics.registry,
  });
  // With METRICS_PORT, metrics move to their own server; health answers on both.
  const healthRoutes = Object.fromEntries(
    Object.entries(operational).filter(([route]) => route !== '/metrics'),
  );
  const slackEndpoint = slack?.requestListener
    ? { listener: slack.requestListener, onResponseSent: slack.onResponseSent }
    : undefined;
  // Parts of the site with paths of their own, on the same port as Slack's requests.
  const mounts: Mount[] = [];
  // The pipeline API: the same commands as Slack's, for CI/CD.
  const pipelineApi = runsWeb
    ? createPipelineApi(
        {
          config,
          log: log.child({ component: 'api' }),
          store,
          roles,
          templates,
          relay,
          relayStore,
          syncQueue,
        },
        config.api,
      )
    : undefined;
  if (pipelineApi) mounts.push(pipelineApi);
  // The status pages, on when STATUS_LINK_KEY is set (web instances only: they answer people).
  const statusPages =
    runsWeb && config.statusPages
      ? createStatusPages({
          app: { store, config },
          config: config.statusPages,
          environments: config.environments,
          liveIntervalMs: config.statusPages.liveIntervalMs,
          log,
        })
      : undefined;
  if (statusPages) mounts.push(...statusPages.mounts);
  const server = new HttpServer(config.metricsPort ? healthRoutes : operational, log, slackEndpoint, mounts);
  const metricsServer = config.metricsPort ? new HttpServer(operational, log) : undefined;
  await server.listen(config.port);
  await metricsServer?.listen(config.metricsPort!);
  await slack?.start();
  relay.start();
  log.info({ port: server.port, mode: config.slack.mode, role: config.role }, 'shipcheck started');

  let stopping: Promise<void> | undefined;
  const stop = async () => {
    const deadline = Date.now() + config.shutdownTimeoutMs;
    const left = () => deadline - Date.now();
    draining = true;
    log.info({ inFlight: requestsInFlight.size }, 'draining');
    // Pipelines waiting at the gate get their answer now rather than a dropped connection.
    pipelineApi?.close();
    // 1. No new Slack requests: close the listening socket (and the Socket Mode connection).
    const serverClosed = server.close(Math.max(0, left() - 1000));
    // Live status tabs hold their connections open; ending them lets the server close.
    statusPages?.close();
    await within(slack?.stopIntake() ?? Promise.resolve(), left());
    // 2. Requests already acknowledged finish their work (the tick, the audit event, the enqueue).
    await within(Promise.allSettled([...requestsInFlight]), left() - 2000);
    // Their follow-ups are queued; what is left unrelayed waits in Redis for the next instance.
    await within(relay.stop(), left() - 2000);
    await within(syncQueue.settled(), left() - 2000);
    // 3. A worker flushes the message updates that are queued, then stops; a job still running when
    //    time is up returns to the queue for another worker (or this one's successor).
    if (worker) {
      const flushed = (async () => {
        while ((await syncQueue.countUnfinished()) > 0) await sleep(100);
      })();
      await within(flushed, left() - 3000);
    }
    // A reminder still running at the deadline returns to the queue; the delayed ones wait in Redis.
    for (const running of [worker, scheduleWorker, retentionWorker, homeWorker]) {
      if (running && !(await within(running.close(), left() - 1000))) await running.close(true);
    }
    await within(serverClosed, left());
    await metricsServer?.close(Math.max(0, left()));
    await Promise.all([syncQueue.close(), scheduler.close(), retention?.close(), homeRefresh?.close()]);
    await Promise.allSettled([
      redis.quit(),
      queueConnection.quit(),
      workerConnection?.quit(),
      within(outbound.close(), Math.max(0, left())),
      metricsSource?.close(),
    ]);
    log.info({ overDeadline: left() < 0 }, 'shipcheck stopped');
  };
  return {
    get port() {
      return server.port;
    },
    stop() {
      stopping ??= stop();
      return stopping;
    },
  };
}

async function runFromCommandLine(): Promise<void> {
  // `node dist/main.js worker` sets the role by argument: Fly.io process groups differ by command.
  const [roleArgument] = process.argv.slice(2);
  let config: Config;
  try {
    config = loadConfig(roleArgument ? { ...process.env, SHIPCHECK_ROLE: roleArgument } : process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const log = createLogger(config.logLevel, undefined, [
    config.slack.botToken,
    config.slack.appToken,
    config.slack.signingSecret,
    ...(config.auditKeys?.keys.values() ?? []),
    config.statusPages?.linkKey,
    config.prometheus?.bearerToken,
    config.prometheus?.basicAuth?.password,
    config.prometheus ? new URL(config.prometheus.url).password || undefined : undefined,
  ]);
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
    // stop() keeps to the deadline itself; this is the backstop if something hangs regardless.
    setTimeout(() => {
      log.error('shutdown deadline passed; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs + 2000).unref();
    shipcheck.stop().then(
      () => process.exit(0),
      (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runFromCommandLine();
}
