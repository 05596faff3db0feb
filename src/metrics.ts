import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

// Every number shipcheck exposes on /metrics. One registry per instance of the app, so tests can run
// several in one process.

export type SlackCallOutcome = 'ok' | 'rate_limited' | 'platform_error' | 'http_error' | 'network_error';

export function createMetrics(options: { countActiveReleases: () => Promise<number> }) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return {
    registry,
    ackDuration: new Histogram({
      name: 'shipcheck_ack_duration_seconds',
      help: 'Time from a Slack request arriving to its acknowledgement, by request kind',
      labelNames: ['kind'] as const,
      // Slack gives up at 3 s.
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 3, 5],
      registers: [registry],
    }),
    commitBeforeAck: new Histogram({
      name: 'shipcheck_commit_before_ack_seconds',
      help: 'Time a change takes to commit before its Slack request is acknowledged, by request kind',
      labelNames: ['kind'] as const,
      // The acknowledgement waits at most 1.5 s for the commit.
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 1.5, 3],
      registers: [registry],
    }),
    slackCalls: new Counter({
      name: 'shipcheck_slack_api_calls_total',
      help: 'Slack Web API calls by method and outcome; every attempt counts, so retries show',
      labelNames: ['method', 'outcome'] as const,
      registers: [registry],
    }),
    slackRateLimitWait: new Counter({
      name: 'shipcheck_slack_rate_limit_wait_seconds_total',
      help: 'Time spent waiting out Retry-After from Slack, by method',
      labelNames: ['method'] as const,
      registers: [registry],
    }),
    jobLateness: new Histogram({
      name: 'shipcheck_job_lateness_seconds',
      help: 'Time from when a job was due to when a worker started it, by queue',
      labelNames: ['queue'] as const,
      buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    jobsFinished: new Counter({
      name: 'shipcheck_jobs_finished_total',
      help: 'Jobs finished by queue and outcome (completed, failed); a failed attempt counts as failed',
      labelNames: ['queue', 'outcome'] as const,
      registers: [registry],
    }),
    relayLag: new Histogram({
      name: 'shipcheck_relay_lag_seconds',
      help: 'Time from an audit event being committed to its follow-ups being queued by the relay',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    }),
    releasesArchived: new Counter({
      name: 'shipcheck_releases_archived_total',
      help: 'Finished releases whose deployment log the retention sweep wrote to ARCHIVE_DIR before removing them',
      registers: [registry],
    }),
    archiveFailures: new Counter({
      name: 'shipcheck_archive_failures_total',
      help: 'Releases past retention kept because their archive could not be written, by reason; each sweep counts again',
      labelNames: ['reason'] as const,
      registers: [registry],
    }),
    activeReleases: new Gauge({
      name: 'shipcheck_active_releases',
      help: 'Releases in progress across all workspaces (read from Redis at scrape time)',
      registers: [registry],
      async collect() {
        this.set(await options.countActiveReleases());
      },
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
