import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blockTexts, startTestApp, type TestApp } from '../support/app-harness.js';
import { TestExporter, TestPrometheus } from '../support/prometheus.js';
import type { StoredMessage } from '../support/slack-stand-in.js';
import { tickAll, waitForHeader, waitForPhase } from './helpers.js';

// A deploy whose error rate goes up after it, through Slack and a real Prometheus: the watch raises a
// red flag after three misses in a row (the owner is pinged, the stakeholders hear once), and the
// check-in shows the error rate missed, with the number, and suggests Issue.

const LEAD = 'U0LEAD';
const STAKEHOLDERS = 'C0STAKE';

// The HTTP error rate in %, over the criterion's window, as a team would write it.
const TEMPLATE = `id: measured
name: Measured
checkins: [7s]
phases:
  - id: ship
    name: Ship
    deployment: true
    items:
      - id: shipped
        text: Deployed
success:
  - id: error-rate
    name: HTTP error rate
    direction: below
    threshold: 1
    unit: '%'
    metric: >-
      100 * sum(rate(app_requests_total{env="{env}",code=~"5.."}[{window}]))
      / sum(rate(app_requests_total{env="{env}"}[{window}]))
    window: 4s
    dashboard: https://grafana.example.com/d/http
    watch: { every: 1s, misses: 3 }
`;

let checklistsDir: string;
let exporter: TestExporter;
let prometheus: TestPrometheus;
const apps: TestApp[] = [];

beforeAll(async () => {
  checklistsDir = await mkdtemp(path.join(tmpdir(), 'shipcheck-metrics-'));
  await writeFile(path.join(checklistsDir, 'measured.yaml'), TEMPLATE);
  exporter = await TestExporter.start();
  prometheus = await TestPrometheus.start([exporter.target]);
}, 30_000);
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});
afterAll(async () => {
  await prometheus?.stop();
  await exporter?.stop();
  await rm(checklistsDir, { recursive: true, force: true });
});

const text = (message: StoredMessage) => blockTexts(message).join('\n');

describe('check-ins that read the metrics', () => {
  it('flags a deploy whose error rate rises, once, and shows the miss at the check-in', async () => {
    // Healthy before the deploy: 0.1 % of requests fail.
    exporter.setCounterRate('app_requests_total', { env: 'staging', code: '200' }, 100);
    exporter.setCounterRate('app_requests_total', { env: 'staging', code: '500' }, 0.1);
    const errorRate =
      '100 * sum(rate(app_requests_total{env="staging",code=~"5.."}[4s])) / sum(rate(app_requests_total{env="staging"}[4s]))';
    await prometheus.waitFor(errorRate, (value) => value !== undefined && value > 0 && value < 1);

    const app = await startTestApp({
      env: {
        CHECKLISTS_DIR: checklistsDir,
        PROMETHEUS_URL: prometheus.url,
        STAKEHOLDER_CHANNEL: STAKEHOLDERS,
      },
    });
    apps.push(app);
    await app.command('start v3.1 staging measured', { user_id: LEAD });
    const header = await waitForHeader(app, 'v3.1 → staging');
    await tickAll(app, await waitForPhase(app, header, 'Ship'), ['shipped'], LEAD);
    // The deploy goes wrong: one request in ten fails.
    exporter.setCounterRate('app_requests_total', { env: 'staging', code: '500' }, 11);

    const inThread = () =>
      app.standIn.messages(header.channel).filter((message) => message.thread_ts === header.ts);
    const alarm = await app.standIn.waitFor(
      () => inThread().find((message) => message.text?.startsWith('Red flag #1')),
      15_000,
      'the red flag from the watch',
    );
    expect(text(alarm)).toContain(`🚩 <@${LEAD}> *HTTP error rate* missed its threshold 3 times in a row`);
    expect(text(alarm)).toMatch(
      /3 misses in a row: \d+(\.\d+)? %, \d+(\.\d+)? %, \d+(\.\d+)? % \(needs &lt; 1 %\)/,
    );
    await app.standIn.waitFor(
      () =>
        text(app.standIn.messages(header.channel).find((message) => message.ts === header.ts)!).includes(
          'red flag',
        ),
      5000,
      'the header showing the red flag',
    );

    const checkin = await app.standIn.waitFor(
      () => inThread().find((message) => text(message).includes('📈 Metrics')),
      15_000,
      'the check-in with its metrics',
    );
    const shown = text(checkin);
    expect(shown).toContain('❌ the numbers suggest *Issue found*');
    const reading = shown.match(/❌ \*HTTP error rate\*: \*(\d+(?:\.\d+)?) %\* — missed \(&lt; 1 %\)/);
    expect(reading, shown).not.toBeNull();
    expect(Number(reading![1])).toBeGreaterThan(1);
    expect(shown).toContain('|query>');
    expect(shown).toContain('<https://grafana.example.com/d/http|dashboard>');
    // A person still answers: the buttons are there.
    expect(JSON.stringify(checkin.blocks)).toContain('checkin.issue');

    // The watch keeps measuring, and misses again, but the stakeholders heard of the flag once.
    await new Promise((resolve) => setTimeout(resolve, 4000));
    const flagNews = app.standIn
      .messages(STAKEHOLDERS)
      .filter((message) => (message.text ?? '').includes('stopped by a red flag'));
    expect(flagNews).toHaveLength(1);
    expect(inThread().filter((message) => message.text?.startsWith('Red flag #'))).toHaveLength(1);
  }, 60_000);
});
