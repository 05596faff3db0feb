import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { getFreePort } from '../support/free-port.js';
import { createTestPrefix, deleteKeysWithPrefix, TEST_REDIS_URL } from '../support/redis.js';
import { SlackStandIn } from '../support/slack-stand-in.js';

// shipcheck as its operators run it: a process started from src/main.ts, configured by environment.

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function runShipcheck(env: Record<string, string>): Run {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk) => {
    output += chunk;
  });
  child.stderr!.on('data', (chunk) => {
    output += chunk;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, output: () => output, exited };
}

describe('start-up errors', () => {
  it('lists every configuration problem at once and exits 1, without echoing secrets', async () => {
    const run = runShipcheck({
      PORT: 'eighty',
      SLACK_BOT_TOKEN: 'secret-value-123',
      DEPLOY_CHANNEL: '#deploys',
    });
    expect(await run.exited).toBe(1);
    const output = run.output();
    expect(output).toContain('shipcheck cannot start');
    for (const name of ['SLACK_BOT_TOKEN', 'SLACK_SIGNING_SECRET', 'PORT', 'DEPLOY_CHANNEL'])
      expect(output).toContain(name);
    expect(output).not.toContain('secret-value-123');
    expect(output).not.toMatch(/\n\s+at /);
  });

  it('names the file, path and reason of a broken checklist template', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'shipcheck-checklists-'));
    try {
      await writeFile(
        path.join(dir, 'broken.yaml'),
        'id: broken\nname: Broken\nphases:\n  - id: one\n    name: One\n    items:\n      - id: Bad Id\n        text: x\n',
      );
      const run = runShipcheck({
        SLACK_BOT_TOKEN: 'xoxb-test',
        SLACK_SIGNING_SECRET: 'secret',
        CHECKLISTS_DIR: dir,
        REDIS_URL: TEST_REDIS_URL,
        SLACK_API_URL: 'http://127.0.0.1:9/api/',
      });
      expect(await run.exited).toBe(1);
      expect(run.output()).toMatch(/broken\.yaml: phases\[0\]\.items\[0\]\.id: use lowercase letters/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('running', () => {
  let standIn: SlackStandIn;
  const prefix = createTestPrefix('proc');
  beforeAll(async () => {
    standIn = await SlackStandIn.start();
  });
  afterAll(async () => {
    await standIn.stop();
    await deleteKeysWithPrefix(prefix);
  });

  it('answers /healthz and exits 0 on SIGTERM', async () => {
    const port = await getFreePort();
    const run = runShipcheck({
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: 'secret',
      SLACK_API_URL: standIn.apiUrl,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      PORT: String(port),
    });
    try {
      let status = 0;
      for (let attempt = 0; attempt < 100 && status !== 200; attempt++) {
        status = await fetch(`http://127.0.0.1:${port}/healthz`).then(
          (response) => response.status,
          () => 0,
        );
        if (status !== 200) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(status).toBe(200);
      run.child.kill('SIGTERM');
      expect(await run.exited).toBe(0);
      expect(run.output()).toContain('shipcheck stopped');
      expect(run.output()).not.toContain('xoxb-test');
    } finally {
      run.child.kill('SIGKILL');
    }
  });
});
