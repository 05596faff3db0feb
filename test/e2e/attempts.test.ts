import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import type { UploadedFile } from '../support/slack-stand-in.js';
import { waitForHeader, waitForReply } from './helpers.js';

// A version started again after a cancel: each attempt is listed, verified and exported on its own.

const apps: TestApp[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
});

/** The two files (Markdown, JSON) of the log shared in a thread on someone's request. */
async function waitForLogAskedBy(app: TestApp, threadTs: string, userId: string): Promise<UploadedFile[]> {
  return app.standIn.waitFor(
    () => {
      const files = app.standIn.files.filter(
        (file) =>
          file.completed && file.thread_ts === threadTs && file.initial_comment?.includes(`<@${userId}>`),
      );
      return files.length === 2 ? files : undefined;
    },
    5000,
    `the log asked for by ${userId}`,
  );
}

describe('attempts at the same version and environment', () => {
  it('are listed, verified and exported separately; a wrong number lists those that exist', async () => {
    const app = await startTestApp();
    apps.push(app);
    await app.command('start v5.0 production minimal', { user_id: 'U0LEAD' });
    const first = await waitForHeader(app, 'v5.0 → production');
    const cancel = await app.command('cancel v5.0 production Wrong build', { user_id: 'U0LEAD' });
    await waitForReply(app, cancel.responseTag, /Cancelled/);
    await app.command('start v5.0 production minimal', { user_id: 'U0LEAD' });
    const second = await waitForHeader(app, 'v5.0 → production #2');
    expect(second.ts).not.toBe(first.ts);

    const list = await app.command('list');
    const listed = await waitForReply(app, list.responseTag, /Active releases/);
    expect(listed).toContain('v5.0 → production #2');
    expect(listed).toMatch(/v5\.0 → production #1.*cancelled/);

    // Each attempt's trail verifies on its own: the first holds its start and its cancellation.
    const firstVerified = await app.command('audit v5.0 production #1 verify');
    expect(await waitForReply(app, firstVerified.responseTag, /audit trail/)).toMatch(
      /audit trail of \*v5\.0 → production\* is intact: 2 events/,
    );
    const newestVerified = await app.command('audit v5.0 verify');
    expect(await waitForReply(app, newestVerified.responseTag, /audit trail/)).toMatch(
      /audit trail of \*v5\.0 → production #2\* is intact: 1 event,/,
    );
    const firstTrail = await app.command('audit v5.0 attempt 1');
    expect(await waitForReply(app, firstTrail.responseTag, /Audit trail/)).toMatch(
      /^Audit trail of v5\.0 → production: 2 events/,
    );

    // `log … #1` shares the cancelled attempt's log in its own thread; without a number, the newest.
    const firstLog = await app.command('log v5.0 production #1', { user_id: 'U0AUDITOR' });
    await waitForReply(app, firstLog.responseTag, /Shared the deployment log of v5\.0 → production in/);
    const [firstMarkdown, firstJson] = await waitForLogAskedBy(app, first.ts, 'U0AUDITOR');
    expect(firstMarkdown!.content).toContain('# Deployment log: v5.0 → production\n');
    expect(JSON.parse(firstJson!.content).release).toMatchObject({
      version: 'v5.0',
      attempt: 1,
      status: 'cancelled',
      reason: 'Wrong build',
    });
    const newestLog = await app.command('log v5.0', { user_id: 'U0AUDITOR2' });
    await waitForReply(app, newestLog.responseTag, /Shared the deployment log of v5\.0 → production #2/);
    const [newestMarkdown, newestJson] = await waitForLogAskedBy(app, second.ts, 'U0AUDITOR2');
    expect(newestMarkdown!.content).toContain('# Deployment log: v5.0 → production #2');
    expect(JSON.parse(newestJson!.content).release).toMatchObject({ attempt: 2, status: 'active' });

    // A number that does not exist is answered with those that do, and nothing is shared.
    const filesBefore = app.standIn.files.length;
    const wrongAudit = await app.command('audit v5.0 production #3 verify');
    expect(await waitForReply(app, wrongAudit.responseTag, /no attempt/)).toContain(
      'v5.0 → production has no attempt #3; its attempts are #1 (cancelled), #2 (active).',
    );
    const wrongLog = await app.command('log v5.0 #7');
    expect(await waitForReply(app, wrongLog.responseTag, /no attempt/)).toContain('has no attempt #7');
    const notANumber = await app.command('log v5.0 #first');
    expect((notANumber.json as { text: string }).text).toContain('is not an attempt number');
    expect(app.standIn.files.length).toBe(filesBefore);
  }, 30_000);
});
