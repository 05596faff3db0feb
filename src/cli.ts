import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { type CliIo, ExitCode } from './cli/io.js';
import { runLint } from './cli/lint.js';
import { runPreview } from './cli/preview.js';
import { runRelease } from './cli/release.js';
import { runVerifyLog } from './cli/verify-log.js';

// `shipcheck lint` and `shipcheck preview` work on checklist templates, `shipcheck verify-log` on an
// exported deployment log: offline, with no Slack and no Redis. `shipcheck release` is a pipeline's
// client of a running shipcheck's API. Only the entry point below reads the
// environment, and hands verify-log the audit key variables; nothing imported from here reads it
// (a unit test walks the imports to check).

export type { CliIo } from './cli/io.js';
export { ExitCode } from './cli/io.js';

export const USAGE = `Usage: shipcheck <command> [options]

Commands:
  lint [file or folder…]          Check checklist templates the way shipcheck loads them at start-up,
                                  printing each problem as file:line:column path: what is wrong.
                                  Default: every *.yaml and *.yml in ./checklists.
  preview <template> [phase]      Print a phase's checklist message(s) as shipcheck would post them
                                  for a fresh release: Block Kit JSON, then a Block Kit Builder link.
                                  <template> is a template id (looked up in the checklist folder)
                                  or a path to a .yaml file; [phase] is a phase id or a 1-based
                                  number (default: the first phase).
  verify-log <file.json>          Check an exported or archived deployment log offline: its hash
                                  chain, sequence numbers, start and ending events, and with
                                  AUDIT_KEY (and AUDIT_OLD_KEYS) set, its keyed seals. Prints each
                                  problem with its event (position, seq, id, type).
  release <action> <version> …    Talk to a running shipcheck from a pipeline (needs SHIPCHECK_URL
                                  and SHIPCHECK_TOKEN; see docs/pipelines.md):
    start <version> --env <env> [--template <id>] [--window <ISO time>] [--zone <IANA zone>]
          [--notes <text>] [--commit <sha>] [--run-url <url>]
    tick <version> <item> [--env <env>] [--value <value>] [--evidence <url>] [--summary <text>]
          [--undo]
    gate <version> [--env <env>] [--timeout <20m>] [--fail-open]
          waits until the deploy may start: exit 0 allowed, 1 refused for good (cancelled,
          rolled back), 2 timed out or shipcheck unreachable (--fail-open: 0 when unreachable)
    deployed <version> [--env <env>] [--status succeeded|failed|started] [--summary <text>]
          [--evidence <url>]
    status <version> [--env <env>]   prints the release as JSON
  help                            Show this help.

Options:
  --dir <folder>    The checklist folder (default: checklists), like CHECKLISTS_DIR. lint checks it
                    as well as any files or folders named; preview looks template ids up in it.
  --unlocked        preview: tick the required items of every earlier phase first. In a fresh
                    release, the phases after the first are locked: shown read-only, with a
                    "Locked until …" line and no checkboxes.
  --header          preview: print the release's header message instead of the phase's.
  --criteria        preview: print what the template measures instead: its check-ins, success,
                    go and rollback criteria, red flags, the items that show them, and the
                    values items record when ticked.
  -h, --help        Show this help.

Exit codes:
  0  all good
  1  problems found: an invalid template, a file or folder that does not exist, an unknown
     template or phase; a deployment log that does not verify
  2  usage error: unknown command or option, missing or extra arguments; verify-log: a file
     that cannot be read or is not a deployment log, or unusable AUDIT_OLD_KEYS

Examples:
  npx shipcheck lint
  npx shipcheck lint checklists/standard.yaml my-templates/
  npx shipcheck preview standard 2 --unlocked
  npx shipcheck preview ./drafts/canary.yaml verify --header
  npx shipcheck preview hotfix --criteria
  AUDIT_KEY=… npx shipcheck verify-log deployment-log-v2.3-production-r12.json
  npx shipcheck release gate v2.3 --env production --timeout 30m
`;

class UsageError extends Error {}

const LINT_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  dir: { type: 'string' },
} as const;

const PREVIEW_OPTIONS = {
  ...LINT_OPTIONS,
  unlocked: { type: 'boolean' },
  header: { type: 'boolean' },
  criteria: { type: 'boolean' },
} as const;

const VERIFY_LOG_OPTIONS = { help: { type: 'boolean', short: 'h' } } as const;

const RELEASE_OPTIONS = {
  help: { type: 'boolean', short: 'h' },
  env: { type: 'string' },
  template: { type: 'string' },
  window: { type: 'string' },
  zone: { type: 'string' },
  notes: { type: 'string' },
  commit: { type: 'string' },
  'run-url': { type: 'string' },
  value: { type: 'string' },
  evidence: { type: 'string' },
  summary: { type: 'string' },
  undo: { type: 'boolean' },
  status: { type: 'string' },
  timeout: { type: 'string' },
  'fail-open': { type: 'boolean' },
} as const;

const RELEASE_ACTIONS = ['start', 'tick', 'gate', 'deployed', 'status'] as const;

function parse<
  Options extends
    | typeof LINT_OPTIONS
    | typeof PREVIEW_OPTIONS
    | typeof VERIFY_LOG_OPTIONS
    | typeof RELEASE_OPTIONS,
>(args: string[], options: Options) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (err) {
    // parseArgs explains itself: "Unknown option '--x'", "Option '--dir <value>' argument missing".
    throw new UsageError((err as Error).message.split('\n')[0]);
  }
}

async function run(argv: string[], io: CliIo): Promise<ExitCode> {
  const [command, ...rest] = argv;
  if (command === undefined) throw new UsageError('');
  if (command === 'help' || command === '--help' || command === '-h') {
    io.stdout(USAGE);
    return ExitCode.ok;
  }
  if (command === 'lint') {
    const { values, positionals } = parse(rest, LINT_OPTIONS);
    if (values.help) {
      io.stdout(USAGE);
      return ExitCode.ok;
    }
    const targets = [...positionals, ...(values.dir !== undefined ? [values.dir] : [])];
    return runLint(io, targets);
  }
  if (command === 'preview') {
    const { values, positionals } = parse(rest, PREVIEW_OPTIONS);
    if (values.help) {
      io.stdout(USAGE);
      return ExitCode.ok;
    }
    const [template, phase, ...extra] = positionals;
    if (template === undefined) throw new UsageError('preview needs a template id or a path to a .yaml file');
    if (extra.length > 0)
      throw new UsageError(`preview takes a template and a phase; unexpected: ${extra.join(' ')}`);
    if (values.criteria && (phase !== undefined || values.header || values.unlocked))
      throw new UsageError(
        '--criteria shows the whole template: leave out the phase, --header and --unlocked',
      );
    return runPreview(io, {
      template,
      ...(phase !== undefined ? { phase } : {}),
      unlocked: values.unlocked === true,
      header: values.header === true,
      criteria: values.criteria === true,
      ...(values.dir !== undefined ? { dir: values.dir } : {}),
    });
  }
  if (command === 'verify-log') {
    const { values, positionals } = parse(rest, VERIFY_LOG_OPTIONS);
    if (values.help) {
      io.stdout(USAGE);
      return ExitCode.ok;
    }
    const [file, ...extra] = positionals;
    if (file === undefined) throw new UsageError('verify-log needs the path to a deployment log (.json)');
    if (extra.length > 0) throw new UsageError(`verify-log takes one file; unexpected: ${extra.join(' ')}`);
    return runVerifyLog(io, file, io.env ?? {});
  }
  if (command === 'release') {
    const { values, positionals } = parse(rest, RELEASE_OPTIONS);
    if (values.help) {
      io.stdout(USAGE);
      return ExitCode.ok;
    }
    const [action, version, ...others] = positionals;
    if (!RELEASE_ACTIONS.includes(action as (typeof RELEASE_ACTIONS)[number]))
      throw new UsageError(`release needs an action: ${RELEASE_ACTIONS.join(', ')}`);
    if (version === undefined) throw new UsageError(`release ${action} needs the version`);
    const wantsItem = action === 'tick';
    const [item, ...extra] = others;
    if (wantsItem && item === undefined) throw new UsageError('release tick needs the item id');
    if ((wantsItem ? extra : others).length > 0)
      throw new UsageError(`unexpected: ${(wantsItem ? extra : others).join(' ')}`);
    if (values.status !== undefined && !['succeeded', 'failed', 'started'].includes(values.status))
      throw new UsageError('--status is succeeded, failed or started');
    return runRelease(io, {
      action: action as (typeof RELEASE_ACTIONS)[number],
      version,
      ...(wantsItem ? { item: item! } : {}),
      ...(values.env !== undefined ? { env: values.env } : {}),
      ...(values.template !== undefined ? { template: values.template } : {}),
      ...(values.window !== undefined ? { window: values.window } : {}),
      ...(values.zone !== undefined ? { zone: values.zone } : {}),
      ...(values.notes !== undefined ? { notes: values.notes } : {}),
      ...(values.commit !== undefined ? { commit: values.commit } : {}),
      ...(values['run-url'] !== undefined ? { runUrl: values['run-url'] } : {}),
      ...(values.value !== undefined ? { value: values.value } : {}),
      ...(values.evidence !== undefined ? { evidence: values.evidence } : {}),
      ...(values.summary !== undefined ? { summary: values.summary } : {}),
      ...(values.status !== undefined ? { status: values.status } : {}),
      ...(values.timeout !== undefined ? { timeout: values.timeout } : {}),
      undo: values.undo === true,
      failOpen: values['fail-open'] === true,
    });
  }
  throw new UsageError(`unknown command "${command}"`);
}

/** Runs the CLI with `argv` (the arguments after the program's name); resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo): Promise<ExitCode> {
  try {
    return await run([...argv], io);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    if (err.message) io.stderr(`shipcheck: ${err.message}\n\n`);
    io.stderr(USAGE);
    return ExitCode.usage;
  }
}

/** Runs the CLI as a program: the process's arguments and streams, the exit code in process.exitCode. */
export async function runFromCommandLine(): Promise<void> {
  // `shipcheck preview standard | head`: the reader left; stop quietly rather than crash on EPIPE.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
    process.exit(process.exitCode ?? 0);
  });
  try {
    process.exitCode = await main(process.argv.slice(2), {
      stdout: (text) => process.stdout.write(text),
      stderr: (text) => process.stderr.write(text),
      cwd: process.cwd(),
      env: {
        AUDIT_KEY: process.env.AUDIT_KEY,
        AUDIT_KEY_ID: process.env.AUDIT_KEY_ID,
        AUDIT_OLD_KEYS: process.env.AUDIT_OLD_KEYS,
        SHIPCHECK_URL: process.env.SHIPCHECK_URL,
        SHIPCHECK_TOKEN: process.env.SHIPCHECK_TOKEN,
      },
    });
  } catch (err) {
    process.stderr.write(`shipcheck: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  await runFromCommandLine();
}
