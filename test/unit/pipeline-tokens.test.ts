import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { main } from '../../src/cli.js';
import { parseTemplate } from '../../src/config/checklists.js';
import {
  checkTokenName,
  formatToken,
  parseTokenSecret,
  TOKEN_NAME_MAX_LENGTH,
  tokenAllowsEnvironment,
} from '../../src/domain/pipeline-tokens.js';
import { isPipelineItem, type Template } from '../../src/domain/template.js';
import { renderPhaseParts } from '../../src/views/release-messages.js';
import { makeRelease } from './factories.js';

// Pipeline tokens as text (`shpk_<id>_<secret>`), their names and scopes, and which template items a
// pipeline may tick.

const SECRET = 'Zm9vYmFyYmF6cXV4LWFuZC1zb21lLW1vcmUtYnl0ZXM_x';
const ID = 'AbC123xYz789';

describe('parseTokenSecret', () => {
  it('given a token as created, when parsed, then the id and secret come back', () => {
    expect(parseTokenSecret(formatToken(ID, SECRET))).toEqual({ tokenId: ID, secret: SECRET });
    expect(parseTokenSecret(` ${formatToken(ID, SECRET)}\n`)).toEqual({ tokenId: ID, secret: SECRET });
  });

  it.each([
    ['no prefix', `${ID}_${SECRET}`],
    ['another prefix', `ghp_${ID}_${SECRET}`],
    ['a short id', `shpk_AbC123_${SECRET}`],
    ['an id with a dash', `shpk_AbC123-Yz789_${SECRET}`],
    ['a short secret', `shpk_${ID}_abc`],
    ['a secret with a space', `shpk_${ID}_${SECRET.slice(0, 20)} ${SECRET.slice(20)}`],
    ['a secret with padding', `shpk_${ID}_${SECRET}=`],
    ['an endless secret', `shpk_${ID}_${'a'.repeat(129)}`],
    ['nothing', ''],
    ['Bearer in front', `Bearer ${formatToken(ID, SECRET)}`],
  ])('refuses %s', (_case, text) => {
    expect(parseTokenSecret(text)).toBeUndefined();
  });
});

describe('tokenAllowsEnvironment', () => {
  it('allows every environment to an unscoped token and only its own to a scoped one', () => {
    expect(tokenAllowsEnvironment({ environments: 'all' }, 'production')).toBe(true);
    expect(tokenAllowsEnvironment({ environments: ['staging'] }, 'staging')).toBe(true);
    expect(tokenAllowsEnvironment({ environments: ['staging'] }, 'production')).toBe(false);
    expect(tokenAllowsEnvironment({ environments: [] }, 'staging')).toBe(false);
  });
});

describe('checkTokenName', () => {
  it.each(['github-actions', 'gitlab_ci', 'CI2', 'a', 'x'.repeat(TOKEN_NAME_MAX_LENGTH)])(
    'accepts %s',
    (name) => {
      expect(checkTokenName(name)).toBeUndefined();
    },
  );

  it.each([
    '',
    '-ci',
    '_ci',
    'ci job',
    '<!channel>',
    '*ci*',
    'ci/cd',
    'é',
    'x'.repeat(TOKEN_NAME_MAX_LENGTH + 1),
  ])('refuses %j with a reason', (name) => {
    expect(checkTokenName(name)).toMatch(/\S/);
  });
});

const yaml = (items: string, phaseId = 'build') => `id: t
name: T
phases:
  - id: ${phaseId}
    name: Build
    items:
${items}
`;

describe('pipeline items in templates', () => {
  it('given items marked `pipeline: true`, when loaded, then isPipelineItem names exactly those', () => {
    const parsed = parseTemplate(
      't.yaml',
      yaml(`      - id: build-green
        text: Build green on the release commit
        pipeline: true
      - id: notes-written
        text: Release notes written`),
    );
    expect('template' in parsed).toBe(true);
    const template = (parsed as { template: Template }).template;
    expect(isPipelineItem(template, 'build-green')).toBe(true);
    expect(isPipelineItem(template, 'notes-written')).toBe(false);
    expect(isPipelineItem(template, 'no-such-item')).toBe(false);
  });

  // A first phase, so that the phase under test can wait for the go call.
  const withItem = (phaseId: string, item: string, go = false) => `id: t
name: T
${go ? 'go:\n  criteria: [Error rate normal]\n' : ''}phases:
  - id: before
    name: Before
    items:
      - id: first
        text: First
  - id: ${phaseId}
    name: Under test
${go ? '    go: true\n' : ''}    items:
${item}
`;

  it.each([
    [
      'a sign-off by its id',
      withItem('after', '      - id: signoff-ops\n        text: Ops content\n        pipeline: true'),
      /sign-off/,
    ],
    [
      'an item of a sign-off phase',
      withItem('sign-off', '      - id: ops-lead\n        text: Ops content\n        pipeline: true'),
      /sign-off/,
    ],
    [
      'an approval by its wording',
      withItem(
        'after',
        '      - id: qa-lead\n        text: QA lead approves the release\n        pipeline: true',
      ),
      /approval/,
    ],
    [
      'the go criteria',
      withItem(
        'after',
        '      - id: go-checks\n        text: Go criteria met\n        criteria: [go]\n        pipeline: true',
        true,
      ),
      /go\/no-go/,
    ],
  ])('refuses `pipeline: true` on %s, pointing at the field', (_case, text, message) => {
    const parsed = parseTemplate('t.yaml', text);
    expect('problems' in parsed).toBe(true);
    const problems = (parsed as { problems: string[] }).problems;
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(/^t\.yaml: phases\[1\]\.items\[0\]\.pipeline: /);
    expect(problems[0]).toMatch(message);
  });

  it('accepts `pipeline: true` on the same items without it', () => {
    const item = '      - id: go-checks\n        text: Go criteria met\n        criteria: [go]';
    expect(parseTemplate('t.yaml', withItem('after', item, true))).toHaveProperty('template');
  });
});

describe('shipcheck lint and preview on pipeline items', () => {
  async function run(argv: string[], cwd: string) {
    let stdout = '';
    const code = await main(argv, {
      stdout: (text) => {
        stdout += text;
      },
      stderr: () => {},
      cwd,
    });
    return { code, lines: stdout.split('\n').filter(Boolean) };
  }

  it('points at `pipeline: true` on a sign-off, with line and column, and previews the pipeline items', async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'shipcheck-pipeline-'));
    try {
      const text = yaml(`      - id: build-green
        text: Build green
        pipeline: true
        record:
          kind: text
          label: Commit SHA
      - id: signoff-lead
        text: Lead signs off
        pipeline: true`).replace('id: t\n', 'id: nightly\n');
      await writeFile(path.join(dir, 'nightly.yaml'), text);
      const linted = await run(['lint', 'nightly.yaml'], dir);
      expect(linted.code).toBe(1);
      expect(linted.lines[0]).toBe(
        'nightly.yaml:15:19 phases[0].items[1].pipeline: a sign-off is a person’s: a pipeline never signs off',
      );
      await writeFile(path.join(dir, 'nightly.yaml'), text.replace(/\n {8}pipeline: true\n$/, '\n'));
      expect((await run(['lint', 'nightly.yaml'], dir)).code).toBe(0);
      const preview = await run(['preview', 'nightly.yaml', '--criteria'], dir);
      expect(preview.lines.slice(-2)).toEqual([
        'Pipeline items (a CI/CD pipeline may tick these with its token):',
        '  build/build-green, with Commit SHA',
      ]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('the pipeline hint in Slack', () => {
  it('marks pipeline items "🤖 pipeline" beside the item, and no others', () => {
    const template: Template = {
      id: 't',
      name: 'T',
      phases: [
        {
          id: 'build',
          name: 'Build',
          items: [
            { id: 'build-green', text: 'Build green', required: true, pipeline: true },
            { id: 'notes', text: 'Notes written', required: true },
          ],
        },
      ],
    };
    const blocks = renderPhaseParts(makeRelease({ template }), 0).flatMap((part) => part.blocks) as {
      block_id?: string;
      text?: { text?: string };
    }[];
    const itemText = (id: string) => blocks.find((block) => block.block_id?.split(':')[1] === id)?.text?.text;
    expect(itemText('build-green')).toBe('Build green  🤖 pipeline');
    expect(itemText('notes')).toBe('Notes written');
  });
});
