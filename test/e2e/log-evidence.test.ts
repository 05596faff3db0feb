import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../support/app-harness.js';
import {
  answerCheckinsHealthy,
  requiredItemIds,
  template,
  tickAll,
  waitForHeader,
  waitForPhase,
} from './helpers.js';

// The deployment log shared in a release's thread is evidence: `shipcheck verify-log`, run as a
// program, checks its JSON offline with the audit key, and names an event changed by one byte.

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const AUDIT_KEY = 'e2e-audit-key-'.padEnd(48, 'x');

const apps: TestApp[] = [];
const folders: string[] = [];
afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.stop()));
  await Promise.all(folders.splice(0).map((folder) => rm(folder, { recursive: true, force: true })));
});

function runCli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', AUDIT_KEY, AUDIT_KEY_ID: 'k1' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
    });
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('an exported deployment log', () => {
  it('verifies offline with verify-log, and fails naming the event changed by one byte', async () => {
    const app = await startTestApp({ env: { CHECKIN_SCHEDULE: '1s', AUDIT_KEY, AUDIT_KEY_ID: 'k1' } });
    apps.push(app);
    await app.command('start v7.0 staging minimal', { user_id: 'U0LEAD' });
    const header = await waitForHeader(app, 'v7.0 → staging');
    for (const [phaseIndex, phase] of template('minimal').phases.entries()) {
      await tickAll(app, await waitForPhase(app, header, phase.name), requiredItemIds('minimal', phaseIndex));
    }
    await answerCheckinsHealthy(app, header);
    const completed = () => app.standIn.files.filter((file) => file.completed);
    const files = await app.standIn.waitFor(
      () => (completed().length === 2 ? completed() : undefined),
      5000,
      'the log files',
    );
    const json = files.find((file) => file.filename?.endsWith('.json'))!;
    const markdown = files.find((file) => file.filename?.endsWith('.md'))!;
    expect(markdown.content.split('\n')[2]).toMatch(/^> ✅ \*\*Audit trail verified\*\*/);
    // The Markdown says how to do what follows: verify-log on its JSON file, with AUDIT_KEY for the seals.
    expect(markdown.content.split('\n')[4]).toMatch(/`npx shipcheck verify-log <file\.json>`.*`AUDIT_KEY`/);

    const folder = await mkdtemp(path.join(os.tmpdir(), 'shipcheck-log-'));
    folders.push(folder);
    const intact = path.join(folder, 'log.json');
    await writeFile(intact, json.content);
    const good = await runCli(['verify-log', intact]);
    expect(good.stderr).toBe('');
    expect(good.stdout).toContain('OK: intact and sealed');
    expect(good.code).toBe(0);

    // One byte of the third event's stored fields.
    const log = JSON.parse(json.content) as {
      events: { id: string; type: string; seq: number; stored: string[] }[];
    };
    const target = log.events[2]!;
    const at = target.stored.indexOf('at') + 1;
    target.stored[at] = String(Number(target.stored[at]) + 1);
    const changed = path.join(folder, 'changed.json');
    await writeFile(changed, JSON.stringify(log, null, 2));
    const bad = await runCli(['verify-log', changed]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain(`event 3 (seq ${target.seq}, id ${target.id}, type ${target.type})`);
    expect(bad.stdout).toContain('BROKEN');

    const unreadable = path.join(folder, 'not-json.json');
    await writeFile(unreadable, '{ nope');
    expect((await runCli(['verify-log', unreadable])).code).toBe(2);
  });
});
