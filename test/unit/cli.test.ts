import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { parseTemplate } from '../../src/config/checklists.js';
import { blockKitViolations } from './block-kit-limits.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const FIXTURES = 'test/fixtures/cli';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

async function run(argv: string[], cwd = ROOT): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await main(argv, {
    stdout: (text) => {
      stdout += text;
    },
    stderr: (text) => {
      stderr += text;
    },
    cwd,
  });
  return { code, stdout, stderr };
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line !== '');
}

interface PrintedMessage {
  blocks: Record<string, unknown>[];
  link: string;
}

/** Each message preview prints: its pretty `{ "blocks": [...] }` JSON, then its Block Kit Builder link. */
function printedMessages(stdout: string): PrintedMessage[] {
  const pattern = /^(\{\n[\s\S]*?\n\})\n(https:\/\/app\.slack\.com\/block-kit-builder\/#\S+)$/gm;
  return [...stdout.matchAll(pattern)].map((match) => {
    const json = JSON.parse(match[1]!) as { blocks: Record<string, unknown>[] };
    expect(Object.keys(json)).toEqual(['blocks']);
    return { blocks: json.blocks, link: match[2]! };
  });
}

function decodeLink(link: string): unknown {
  const fragment = link.slice(link.indexOf('#') + 1);
  return JSON.parse(decodeURIComponent(fragment));
}

function hasCheckboxes(message: PrintedMessage): boolean {
  return message.blocks.some(
    (block) => (block.accessory as { type?: string } | undefined)?.type === 'checkboxes',
  );
}

const temporaryDirs: string[] = [];

async function temporaryDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'shipcheck-cli-'));
  temporaryDirs.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(temporaryDirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

describe('shipcheck lint', () => {
  it('passes the shipped checklists, one line per template and a summary', async () => {
    const result = await run(['lint']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(lines(result.stdout)).toEqual([
      '✓ checklists/hotfix.yaml: 5 phases, 22 items',
      '✓ checklists/minimal.yaml: 4 phases, 20 items',
      '✓ checklists/standard.yaml: 11 phases, 123 items',
      '3 templates OK',
    ]);
  });

  it('lints the folder given with --dir, and files named one by one', async () => {
    expect((await run(['lint', '--dir', 'checklists'])).stdout).toContain('3 templates OK');
    const one = await run(['lint', 'checklists/standard.yaml']);
    expect(one.code).toBe(0);
    expect(lines(one.stdout)).toEqual(['✓ checklists/standard.yaml: 11 phases, 123 items', '1 template OK']);
  });

  it('paths are relative to the working folder', async () => {
    const result = await run(['lint', 'standard.yaml'], path.join(ROOT, 'checklists'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('✓ standard.yaml: 11 phases, 123 items');
  });

  // Each broken fixture: the problem line, with the line and column of the YAML node at fault.
  const BROKEN: [file: string, line: string][] = [
    [
      'duplicate-item.yaml',
      '15:13 phases[1].items[1].id: duplicate item id "backup-taken" (item ids are unique across the whole template)',
    ],
    ['bad-due.yaml', '7:10 phases[0].due: write the due offset like T-7d, T-0, T+15m or T+24h'],
    [
      'unknown-field.yaml',
      '12:9 phases[0].items[1].owner: unknown field (allowed here: id, text, help, required, role, group, criteria, record, pipeline)',
    ],
    // The string opened on line 6 is never closed; YAML notices only at the end of the file.
    [
      'syntax-error.yaml',
      '6:11: not valid YAML: Missing closing "quote (for the one opened here; noticed at 10:1)',
    ],
    ['wrong-id.yaml', '2:5 id: "right-id" must match the file name "wrong-id"'],
    // A missing key points at the mapping that should have it.
    ['missing-field.yaml', '10:9 phases[0].items[1].text: required field is missing (expected string)'],
  ];

  it.each(BROKEN)('reports %s with its file, line, column and path', async (file, expected) => {
    const result = await run(['lint', `${FIXTURES}/${file}`]);
    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toEqual([`${FIXTURES}/${file}:${expected}`, '1 problem in 1 of 1 file']);
  });

  it('reports two files declaring the same template id, pointing at both', async () => {
    const result = await run(['lint', `${FIXTURES}/twin.yaml`, `${FIXTURES}/twin.yml`]);
    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toEqual([
      `✓ ${FIXTURES}/twin.yaml: 1 phase, 1 item`,
      `${FIXTURES}/twin.yml:2:5 id: duplicate template id "twin": ${FIXTURES}/twin.yaml:2:5 declares it too`,
      '1 problem in 1 of 2 files',
    ]);
    expect((await run(['lint', `${FIXTURES}/twin.yaml`])).code).toBe(0);
  });

  it('lints a whole folder of broken templates: every problem, then the count', async () => {
    const result = await run(['lint', FIXTURES]);
    expect(result.code).toBe(1);
    const output = lines(result.stdout);
    for (const [file, expected] of BROKEN) expect(output).toContain(`${FIXTURES}/${file}:${expected}`);
    expect(output).toContain(`✓ ${FIXTURES}/twin.yaml: 1 phase, 1 item`);
    expect(output.filter((line) => line.startsWith(`${FIXTURES}/twin.yml:2:5 id: duplicate`))).toHaveLength(
      1,
    );
    expect(output.at(-1)).toBe('7 problems in 7 of 8 files');
  });

  it('fails exactly the files the bot would refuse to load', async () => {
    for (const [file] of [...BROKEN, ['twin.yaml']]) {
      const name = path.join(FIXTURES, file!);
      const refused = 'problems' in parseTemplate(name, await readFile(path.join(ROOT, name), 'utf8'));
      expect((await run(['lint', name])).code, file).toBe(refused ? 1 : 0);
    }
  });

  it('reports every unknown key, and a wrong id even when something else is wrong too', async () => {
    const dir = await temporaryDir();
    const text = ['id: other', 'name: Two problems', 'colour: red', 'phases: []', ''].join('\n');
    await writeFile(path.join(dir, 'mixed.yaml'), text);
    const result = await run(['lint', 'mixed.yaml'], dir);
    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toEqual([
      'mixed.yaml:1:5 id: "other" must match the file name "mixed"',
      'mixed.yaml:3:1 colour: unknown field (allowed here: id, name, description, phases, checkins, redflags, success, go, rollback, stakeholders, announcements)',
      'mixed.yaml:4:9 phases: Too small: expected array to have >=1 items',
      '3 problems in 1 of 1 file',
    ]);
  });

  it('reports an item that refers to an unknown criterion, with its line and column', async () => {
    const dir = await temporaryDir();
    const text = [
      'id: measured',
      'name: Measured',
      'success:',
      '  - id: error-rate',
      '    name: Error rate higher than the baseline',
      '    direction: below',
      '    threshold: 1',
      "    unit: '%'",
      'phases:',
      '  - id: watch',
      '    name: Watch',
      '    items:',
      '      - id: watched',
      '        text: Error rate watched',
      '        criteria: [error-rate, latency]',
      '',
    ].join('\n');
    await writeFile(path.join(dir, 'measured.yaml'), text);
    const result = await run(['lint', 'measured.yaml'], dir);
    expect(result.code).toBe(1);
    expect(lines(result.stdout)).toEqual([
      'measured.yaml:15:32 phases[0].items[0].criteria[1]: unknown criterion "latency": use the id of a success, go or rollback criterion, or a whole list (success, go, rollback, redflags)',
      '1 problem in 1 of 1 file',
    ]);
  });

  it('reports a file or folder that does not exist, or is not a template, as a problem (exit 1)', async () => {
    const missing = await run(['lint', 'checklists/standard.yaml', 'nope.yaml']);
    expect(missing.code).toBe(1);
    expect(lines(missing.stdout)).toEqual([
      '✓ checklists/standard.yaml: 11 phases, 123 items',
      'nope.yaml: no such file or folder',
      '1 problem in 1 of 2 files',
    ]);
    const notYaml = await run(['lint', 'package.json']);
    expect(notYaml.code).toBe(1);
    expect(notYaml.stdout).toContain('package.json: not a template: the file name must end in .yaml or .yml');
  });

  it('explains a missing default folder, and refuses an empty one', async () => {
    const dir = await temporaryDir();
    const noFolder = await run(['lint'], dir);
    expect(noFolder.code).toBe(1);
    expect(noFolder.stdout).toContain(
      'checklists: no such file or folder (run shipcheck from the project root',
    );
    const empty = await run(['lint', '.'], dir);
    expect(empty.code).toBe(1);
    expect(empty.stdout).toContain('.: no checklist templates (*.yaml, *.yml) in this folder');
  });
});

describe('shipcheck preview', () => {
  it('prints the first phase of a fresh release as Block Kit JSON with a Block Kit Builder link', async () => {
    const result = await run(['preview', 'standard']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const messages = printedMessages(result.stdout);
    expect(messages.length).toBeGreaterThanOrEqual(1);
    for (const message of messages) {
      expect(message.blocks.length).toBeLessThanOrEqual(50);
      expect(blockKitViolations({ text: 'fallback', blocks: message.blocks })).toEqual([]);
      expect(message.link.startsWith('https://app.slack.com/block-kit-builder/#')).toBe(true);
      expect(decodeLink(message.link)).toEqual({ blocks: message.blocks });
      expect(hasCheckboxes(message)).toBe(true);
    }
    expect(messages[0]!.blocks[0]).toMatchObject({ type: 'header', text: { text: '1/11 · Planning' } });
    expect(result.stdout).toContain('text: v1.0.0 → production: Planning');
  });

  it('renders the same phase by number and by id, and stably', async () => {
    const byNumber = await run(['preview', 'standard', '2']);
    const byId = await run(['preview', 'standard', 'testing']);
    expect(byNumber.code).toBe(0);
    expect(byId.stdout).toBe(byNumber.stdout);
    expect((await run(['preview', 'standard', '2'])).stdout).toBe(byNumber.stdout);
    const [message] = printedMessages(byNumber.stdout);
    expect(message!.blocks[0]).toMatchObject({ type: 'header', text: { text: '2/11 · Testing' } });
  });

  it('shows a later phase locked and read-only, and says how to see it unlocked', async () => {
    const result = await run(['preview', 'standard', 'testing']);
    const messages = printedMessages(result.stdout);
    expect(messages.some(hasCheckboxes)).toBe(false);
    expect(result.stdout).toContain('🔒 Locked until *Planning* is done');
    expect(result.stderr).toContain('--unlocked');
  });

  it('--unlocked ticks the earlier phases, so the phase renders with checkboxes', async () => {
    const result = await run(['preview', 'standard', '2', '--unlocked']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    const messages = printedMessages(result.stdout);
    expect(messages.every(hasCheckboxes)).toBe(true);
    expect(result.stdout).toContain('▶️ Open · 0/');
    expect(result.stdout).not.toContain('Locked until');
    for (const message of messages)
      expect(blockKitViolations({ text: 'fallback', blocks: message.blocks })).toEqual([]);
  });

  it('--header prints the release header instead', async () => {
    const result = await run(['preview', 'standard', '--header']);
    expect(result.code).toBe(0);
    const [header, ...others] = printedMessages(result.stdout);
    expect(others).toEqual([]);
    expect(header!.blocks[0]).toMatchObject({ type: 'header', text: { text: '🚀 v1.0.0 → production' } });
    expect(decodeLink(header!.link)).toEqual({ blocks: header!.blocks });
  });

  it('--criteria prints what the template measures instead of a message', async () => {
    const result = await run(['preview', 'hotfix', '--criteria']);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe('');
    expect(printedMessages(result.stdout)).toEqual([]);
    const output = lines(result.stdout);
    expect(output[0]).toBe('hotfix (checklists/hotfix.yaml): what the template measures');
    expect(output).toContain('Check-ins after the deploy: 2h, 24h');
    expect(output).toContain('Go criteria (shown with the Go button of phase 3, Deploy):');
    expect(output).toContain('  fix-confirmed     Fix confirmed on staging');
    expect(output).toContain("Red flags (the template's own):");
    expect(output).toContain('  verify/rollback-triggers-clear: rollback');
    const standard = lines((await run(['preview', 'standard', '--criteria'])).stdout);
    expect(standard).toContain(
      '  response-time          Response time slower than the baseline: less than 10 %',
    );
    expect(standard).toContain(
      '  performance-drop          Performance worse than the baseline: more than 50 %',
    );
    const plain = lines((await run(['preview', `${FIXTURES}/twin.yaml`, '--criteria'])).stdout);
    expect(plain).toContain('Check-ins after the deploy: none (no phase is marked `deployment: true`)');
    expect(plain).toContain('Red flags (the built-in list; the template sets none):');
  });

  it('takes a path to a template file, and --dir for ids', async () => {
    const byPath = await run(['preview', `${FIXTURES}/twin.yaml`]);
    expect(byPath.code).toBe(0);
    expect(printedMessages(byPath.stdout)).toHaveLength(1);
    const byDir = await run(['preview', 'twin', '--dir', FIXTURES]);
    expect(byDir.stdout).toBe(byPath.stdout);
  });

  it('prints each part of a phase too big for one message', async () => {
    const dir = await temporaryDir();
    const items = Array.from(
      { length: 60 },
      (_, index) => `      - id: item-${index}\n        text: Item ${index}`,
    );
    const text = [
      'id: big',
      'name: Big',
      'phases:',
      '  - id: all',
      '    name: All',
      '    items:',
      ...items,
      '',
    ];
    await writeFile(path.join(dir, 'big.yaml'), text.join('\n'));
    const result = await run(['preview', 'big.yaml'], dir);
    expect(result.code).toBe(0);
    const messages = printedMessages(result.stdout);
    expect(messages).toHaveLength(2);
    expect(result.stdout).toContain('Message 2 of 2');
    for (const message of messages) {
      expect(message.blocks.length).toBeLessThanOrEqual(50);
      expect(decodeLink(message.link)).toEqual({ blocks: message.blocks });
    }
  });

  it('lists the templates there are when the template is unknown', async () => {
    const result = await run(['preview', 'nightly']);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain('no template "nightly" in checklists/');
    expect(result.stderr).toContain('Templates there: hotfix, minimal, standard');
    const missingFile = await run(['preview', 'drafts/nightly.yaml']);
    expect(missingFile.code).toBe(1);
    expect(missingFile.stderr).toContain('drafts/nightly.yaml: no such file');
  });

  it.each(['deploy', '0', '12'])(
    'lists the phases there are when the phase is unknown (%s)',
    async (phase) => {
      const result = await run(['preview', 'standard', phase]);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toContain(`no phase "${phase}" in standard`);
      expect(result.stderr).toMatch(/^ +1 {2}planning +Planning$/m);
      expect(result.stderr).toMatch(/^ +11 {2}retrospective +Retrospective$/m);
    },
  );

  it('refuses an invalid template, showing its problems', async () => {
    const result = await run(['preview', `${FIXTURES}/bad-due.yaml`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`${FIXTURES}/bad-due.yaml:7:10 phases[0].due:`);
  });
});

describe('shipcheck usage', () => {
  it.each([
    [[], ''],
    [['deploy'], 'unknown command "deploy"'],
    [['lint', '--bogus'], "Unknown option '--bogus'"],
    [['lint', '--dir'], '--dir'],
    [['preview'], 'preview needs a template'],
    [['preview', 'standard', '2', 'extra'], 'unexpected: extra'],
    [['preview', 'standard', '--unlockd'], "Unknown option '--unlockd'"],
    [['preview', 'standard', '2', '--criteria'], '--criteria shows the whole template'],
    [['verify-log'], 'verify-log needs the path to a deployment log'],
    [['verify-log', 'a.json', 'b.json'], 'unexpected: b.json'],
  ])('%j is a usage error: exit 2 and the usage text on stderr', async (argv, message) => {
    const result = await run(argv);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toContain(message);
    expect(result.stderr).toContain('Usage: shipcheck <command>');
  });

  it.each([[['--help']], [['-h']], [['help']], [['lint', '--help']], [['preview', '-h']]])(
    '%j prints the usage on stdout, exit 0',
    async (argv) => {
      const result = await run(argv);
      expect(result.code).toBe(0);
      expect(result.stdout).toContain('Usage: shipcheck <command>');
      expect(result.stdout).toContain('--unlocked');
      expect(result.stdout).toContain('Exit codes:');
    },
  );

  it('never loads the environment config: the CLI runs with no environment variables', async () => {
    // Walk the relative imports from src/cli.ts; none may reach src/config/env.ts.
    const seen = new Set<string>();
    const pending = [path.join(ROOT, 'src/cli.ts')];
    while (pending.length > 0) {
      const file = pending.pop()!;
      if (seen.has(file)) continue;
      seen.add(file);
      const source = await readFile(file, 'utf8');
      for (const match of source.matchAll(/from '(\.{1,2}\/[^']+)\.js'/g)) {
        pending.push(path.resolve(path.dirname(file), `${match[1]}.ts`));
      }
    }
    const reached = [...seen].map((file) => path.relative(ROOT, file));
    expect(reached).toContain('src/views/release-messages.ts');
    expect(reached).not.toContain('src/config/env.ts');
    // Only the entry point reads the environment: the three audit key variables, for verify-log, and
    // where shipcheck answers and the token, for release.
    for (const file of seen) {
      const source = await readFile(file, 'utf8');
      const reads = [...source.matchAll(/process\.env(\.\w+)?/g)].map((match) => match[0]);
      if (path.relative(ROOT, file) === 'src/cli.ts')
        expect(reads.sort()).toEqual([
          'process.env.AUDIT_KEY',
          'process.env.AUDIT_KEY_ID',
          'process.env.AUDIT_OLD_KEYS',
          'process.env.SHIPCHECK_TOKEN',
          'process.env.SHIPCHECK_URL',
        ]);
      else expect(reads, file).toEqual([]);
    }
  });
});
