import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { DeploymentLogJson } from '../../src/domain/deployment-log.js';
import type { Template } from '../../src/domain/template.js';
import { type RetentionDeps, runRetention } from '../../src/jobs/retention.js';
import { createMetrics } from '../../src/metrics.js';
import { RetentionSchedule } from '../../src/queues/retention-schedule.js';
import { LogArchive } from '../../src/store/log-archive.js';
import { ReleaseStore } from '../../src/store/release-store.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';

// Retention archives, then removes, only finished releases that ended before the cut-off, with all
// their records; a release whose archive cannot be written is kept.

const TEAM = 'T0KEEP';
const DAY = 24 * 3600_000;
const template: Template = {
  id: 'tiny',
  name: 'Tiny',
  phases: [{ id: 'one', name: 'One', items: [{ id: 'a', text: 'A', required: true }] }],
};

let redis: Redis;
let queueRedis: Redis;
let prefix: string;
let store: ReleaseStore;
let scratch: string;
beforeAll(async () => {
  redis = new Redis(TEST_REDIS_URL);
  queueRedis = new Redis(TEST_REDIS_URL, { maxRetriesPerRequest: null });
  scratch = await mkdtemp(path.join(tmpdir(), 'shipcheck-archive-'));
});
afterAll(async () => {
  await redis.quit();
  await queueRedis.quit();
  await rm(scratch, { recursive: true, force: true });
});
afterEach(async () => {
  await deleteKeysWithPrefix(prefix);
});

async function release(version: string, cancel: boolean, env = 'staging'): Promise<string> {
  const { releaseId } = await store.startRelease({
    teamId: TEAM,
    channelId: 'C0DEPLOY',
    version,
    env,
    template,
    userId: 'U0LEAD',
    requestId: version,
  });
  await store.setItem({
    teamId: TEAM,
    releaseId,
    itemId: 'a',
    done: false,
    userId: 'U0LEAD',
    requestId: `${version}-x`,
  });
  if (cancel)
    await store.cancelRelease({
      teamId: TEAM,
      releaseId,
      userId: 'U0LEAD',
      reason: 'done',
      requestId: version,
    });
  return releaseId;
}

async function keysOf(releaseId: string): Promise<string[]> {
  return redis.keys(`${prefix}:{${TEAM}}:release:${releaseId}*`);
}

/** A fresh, empty archive folder. */
async function archiveFolder(): Promise<string> {
  return mkdtemp(path.join(scratch, 'archive-'));
}

/** Every file under a folder, relative to it. */
async function listFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { recursive: true, withFileTypes: true });
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name)))
    .sort();
}

/** A sweep's dependencies, with its log lines and metrics kept for the test to read. */
function sweepWith(archive: LogArchive | undefined) {
  const lines: Record<string, unknown>[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push(JSON.parse(line)) });
  const metrics = createMetrics({ countActiveReleases: async () => 0 });
  const deps: RetentionDeps = { store, log, retentionDays: 400, archive, metrics };
  return { deps, lines, metrics };
}

/** A moment when every release finished so far is past retention. */
function longAfter(): number {
  return Date.now() + 401 * DAY;
}

const yearNow = () => String(new Date().getUTCFullYear());

describe('runRetention', () => {
  it('removes what ended before the cut-off, with its records, and keeps the rest', async () => {
    prefix = createTestPrefix('retention');
    store = new ReleaseStore(redis, prefix);
    const old = await release('v1.0', true);
    await new Promise((resolve) => setTimeout(resolve, 20));
    const recent = await release('v1.1', true);
    const active = await release('v1.2', false);
    expect(await keysOf(old)).not.toHaveLength(0);

    // Cut off just before the recent one ended: 400 days from then.
    const recentEnd = (await store.getRelease(TEAM, recent))!.finishedAt!;
    const now = recentEnd - 1 + 400 * DAY;
    const archive = new LogArchive(await archiveFolder());
    const quiet = { store, log: pino({ level: 'silent' }), retentionDays: 400, archive };
    const removed = await runRetention(quiet, now);

    expect(removed).toBe(1);
    expect(await keysOf(old)).toEqual([]);
    expect(await store.getRelease(TEAM, old)).toBeUndefined();
    expect(await store.findByVersion(TEAM, 'v1.0')).toEqual([]);
    expect((await store.listRecent(TEAM, 10)).map((kept) => kept.id).sort()).toEqual([recent, active].sort());
    expect(await store.readAudit(TEAM, recent)).not.toHaveLength(0);
    expect(await store.retention.cutoff(TEAM)).toBe(recentEnd - 1);

    // An active release is never removed, however old.
    expect(await runRetention(quiet, now + 5000 * DAY)).toBe(1);
    expect(await store.getRelease(TEAM, active)).toBeDefined();
  });

  it('archives a release as JSON and Markdown, then removes it from Redis', async () => {
    prefix = createTestPrefix('retention');
    store = new ReleaseStore(redis, prefix);
    const releaseId = await release('v3.1', true);
    const events = await store.readAudit(TEAM, releaseId);
    const root = await archiveFolder();
    await new LogArchive(root).probe();
    expect(await listFiles(root)).toEqual([]);
    const { deps, lines, metrics } = sweepWith(new LogArchive(root));

    expect(await runRetention(deps, longAfter())).toBe(1);

    const stem = path.join(TEAM, yearNow(), `${releaseId}-v3.1-staging`);
    expect(await listFiles(root)).toEqual([`${stem}.json`, `${stem}.md`]);
    const json = JSON.parse(await readFile(path.join(root, `${stem}.json`), 'utf8')) as DeploymentLogJson;
    expect(json.release).toMatchObject({
      id: releaseId,
      version: 'v3.1',
      env: 'staging',
      status: 'cancelled',
    });
    expect(json.events.map((event) => event.type)).toEqual(events.map((event) => event.type));
    expect(json.events.map((event) => event.type)).toEqual(['started', 'cancelled']);
    const markdown = await readFile(path.join(root, `${stem}.md`), 'utf8');
    expect(markdown).toContain('v3.1');
    expect(markdown).toContain('cancelled');
    // Read-only once written.
    expect((await stat(path.join(root, `${stem}.json`))).mode & 0o777).toBe(0o440);

    expect(await keysOf(releaseId)).toEqual([]);
    expect(await store.getRelease(TEAM, releaseId)).toBeUndefined();
    expect(await metrics.registry.metrics()).toContain('shipcheck_releases_archived_total 1');
    expect(lines.find((line) => line.msg === 'release archived and removed: past retention')).toMatchObject({
      releaseId,
      archivedTo: [path.join(root, `${stem}.json`), path.join(root, `${stem}.md`)],
    });
  });

  it('writes over the archive of a sweep that died between writing and removing', async () => {
    prefix = createTestPrefix('retention');
    store = new ReleaseStore(redis, prefix);
    const releaseId = await release('v3.2', true);
    const root = await archiveFolder();
    const archive = new LogArchive(root);
    const first = sweepWith(archive);
    // The first sweep wrote the files, then died before the removal: the files are there, so is the release.
    await archive.write({ folders: [TEAM, yearNow()], stem: `${releaseId}-v3.2-staging` }, [
      { extension: 'json', content: '{"partial": false}\n' },
      { extension: 'md', content: '# an earlier copy\n' },
    ]);

    expect(await runRetention(first.deps, longAfter())).toBe(1);

    const stem = path.join(TEAM, yearNow(), `${releaseId}-v3.2-staging`);
    expect(await listFiles(root)).toEqual([`${stem}.json`, `${stem}.md`]);
    expect(JSON.parse(await readFile(path.join(root, `${stem}.json`), 'utf8'))).toMatchObject({
      release: { id: releaseId },
    });
    expect(await keysOf(releaseId)).toEqual([]);
  });

  it('removes nothing when the archive folder cannot be written, and says why in the log and metrics', async () => {
    prefix = createTestPrefix('retention');
    store = new ReleaseStore(redis, prefix);
    const releaseId = await release('v4.0', true);
    const keysBefore = (await keysOf(releaseId)).sort();
    // Root may write anywhere, but nobody can make a folder inside a regular file.
    const notAFolder = path.join(scratch, 'a-regular-file');
    await writeFile(notAFolder, 'not a folder');
    const unwritable = new LogArchive(path.join(notAFolder, 'archive'));
    // Workers probe the folder at start-up, so this shows before any sweep.
    await expect(unwritable.probe()).rejects.toMatchObject({ reason: 'missing_folder' });
    const { deps, lines, metrics } = sweepWith(unwritable);

    expect(await runRetention(deps, longAfter())).toBe(0);

    expect((await keysOf(releaseId)).sort()).toEqual(keysBefore);
    expect(await store.getRelease(TEAM, releaseId)).toMatchObject({ version: 'v4.0' });
    expect(await store.retention.cutoff(TEAM)).toBeUndefined();
    const warning = lines.find(
      (line) => line.msg === 'release kept past retention: its archive could not be written',
    );
    expect(warning).toMatchObject({ level: 40, releaseId, reason: 'missing_folder' });
    expect(String(warning?.why)).toContain('a-regular-file');
    const exposed = await metrics.registry.metrics();
    expect(exposed).toContain('shipcheck_archive_failures_total{reason="missing_folder"} 1');
    expect(exposed).toContain('shipcheck_releases_archived_total 0');

    // A folder on the way that is a file fails just the same, and leaves no temporary file behind.
    const root = await archiveFolder();
    await writeFile(path.join(root, TEAM), 'in the way');
    const second = sweepWith(new LogArchive(root));
    expect(await runRetention(second.deps, longAfter())).toBe(0);
    expect(await store.getRelease(TEAM, releaseId)).toBeDefined();
    expect(await listFiles(root)).toEqual([TEAM]);
    expect(await second.metrics.registry.metrics()).toMatch(
      /shipcheck_archive_failures_total\{reason="[a-z_]+"\} 1/,
    );

    // Once the folder can be written, the next sweep archives and removes it.
    await rm(path.join(root, TEAM));
    expect(await runRetention(sweepWith(new LogArchive(root)).deps, longAfter())).toBe(1);
    expect(await keysOf(releaseId)).toEqual([]);
  });

  it('keeps a release that changed while its archive was written, for the next sweep', async () => {
    prefix = createTestPrefix('retention');
    store = new ReleaseStore(redis, prefix);
    const releaseId = await release('v4.2', true);
    const auditKey = store.keys.releaseAudit(TEAM, releaseId);
    // An event lands between the files being written and the removal (a late retrospective, say).
    class RacedArchive extends LogArchive {
      override async write(...args: Parameters<LogArchive['write']>): Promise<string[]> {
        const paths = await super.write(...args);
        await redis.xadd(auditKey, '*', 'type', 'retro_saved', 'user', 'U0LATE');
        return paths;
      }
    }
    const { deps, lines } = sweepWith(new RacedArchive(await archiveFolder()));

    expect(await runRetention(deps, longAfter())).toBe(0);

    expect(await store.getRelease(TEAM, releaseId)).toBeDefined();
    expect(await redis.xlen(auditKey)).toBe(3);
    expect(
      lines.find((line) => line.msg === 'release kept past retention: it changed while it was archived'),
    ).toMatchObject({ releaseId });
  });

  it('keeps releases past retention when no archive folder is configured', async () => {
    prefix = createTestPrefix('retention');
    store = new ReleaseStore(redis, prefix);
    const releaseId = await release('v4.1', true);
    const { deps, lines, metrics } = sweepWith(undefined);

    expect(await runRetention(deps, longAfter())).toBe(0);

    expect(await store.getRelease(TEAM, releaseId)).toBeDefined();
    expect(lines.find((line) => line.level === 40)).toMatchObject({ kept: 1, reason: 'not_configured' });
    expect(await metrics.registry.metrics()).toContain(
      'shipcheck_archive_failures_total{reason="not_configured"} 1',
    );
  });

  it('keeps a hostile version or environment inside the archive folder', async () => {
    prefix = createTestPrefix('retention');
    store = new ReleaseStore(redis, prefix);
    const hostile = [
      await release('../../../../escaped', true, '../..'),
      await release('/etc/cron.d/x', true, '..'),
      await release('..\\..\\win', true, 'a/../../b'),
    ];
    const root = await archiveFolder();
    const outside = await listFiles(scratch);

    expect(await runRetention(sweepWith(new LogArchive(root)).deps, longAfter())).toBe(3);

    const written = await listFiles(root);
    expect(written).toHaveLength(6);
    for (const file of written) {
      const [team, year, name, ...rest] = file.split(path.sep);
      expect({ team, year, rest }).toEqual({ team: TEAM, year: yearNow(), rest: [] });
      expect(name).toMatch(/^r\d+-[A-Za-z0-9._-]+\.(json|md)$/);
      expect(name).not.toContain('..');
    }
    for (const releaseId of hostile)
      expect(written.some((file) => path.basename(file).startsWith(`${releaseId}-`))).toBe(true);
    // Nothing appeared anywhere else under the scratch folder.
    expect((await listFiles(scratch)).filter((file) => !file.startsWith(path.basename(root)))).toEqual(
      outside,
    );
  });

  it('schedules the daily sweep once, whoever starts first', async () => {
    prefix = createTestPrefix('retention');
    store = new ReleaseStore(redis, prefix);
    const schedules = [0, 1, 2].map(
      () => new RetentionSchedule(queueRedis, prefix, redis, store.keys.retentionLock()),
    );
    await Promise.all(schedules.map((schedule) => schedule.ensureScheduled()));
    await schedules[0]!.ensureScheduled();
    const schedulers = await schedules[0]!.queue.getJobSchedulers();
    expect(schedulers).toHaveLength(1);
    expect(schedulers[0]).toMatchObject({ key: 'retention-sweep', every: 24 * 3600_000 });
    await Promise.all(schedules.map((schedule) => schedule.close()));
  });
});
