import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { type AuditKeys, parseOldAuditKeys, TRAIL_BREAK_WORDS } from '../domain/audit-seal.js';
import { LOG_BREAK_WORDS, type LogProblem, verifyDeploymentLog } from '../domain/log-verification.js';
import { type CliIo, displayPath, ExitCode, plural } from './io.js';

// `shipcheck verify-log <file.json>`: checks an exported or archived deployment log offline. The keys
// come from the same variables the bot reads (AUDIT_KEY, AUDIT_KEY_ID, AUDIT_OLD_KEYS), handed over
// by the entry point; without them only the structure and the hash chain can be checked.

/** The audit keys in `env`; a problem is a usage error (exit 2), never a silent check without keys. */
export function readAuditKeys(
  env: Readonly<Record<string, string | undefined>>,
): { ok: true; keys: AuditKeys | undefined } | { ok: false; problem: string } {
  const key = env.AUDIT_KEY?.trim();
  const currentId = env.AUDIT_KEY_ID?.trim() || 'k1';
  const old = parseOldAuditKeys(env.AUDIT_OLD_KEYS ?? '', currentId);
  if (!old.ok) return { ok: false, problem: `AUDIT_OLD_KEYS: ${old.problems.join('; ')}` };
  const keys = new Map(old.value);
  if (key) keys.set(currentId, key);
  return { ok: true, keys: keys.size > 0 ? { currentId, keys } : undefined };
}

function describeProblem(problem: LogProblem, events: number): string {
  const words =
    problem.problem === 'readable_mismatch'
      ? LOG_BREAK_WORDS.readable_mismatch
      : TRAIL_BREAK_WORDS[problem.problem];
  if (problem.position > events) return `after event ${events}: ${words}`;
  const details = [
    problem.seq === undefined ? 'no seq' : `seq ${problem.seq}`,
    `id ${problem.eventId ?? '?'}`,
    `type ${problem.type ?? '?'}`,
  ];
  return `event ${problem.position} (${details.join(', ')}): ${words}`;
}

export async function runVerifyLog(
  io: CliIo,
  file: string,
  env: Readonly<Record<string, string | undefined>>,
): Promise<ExitCode> {
  const keys = readAuditKeys(env);
  if (!keys.ok) {
    io.stderr(`shipcheck: ${keys.problem}\n`);
    return ExitCode.usage;
  }
  const absolute = path.resolve(io.cwd, file);
  const shown = displayPath(io.cwd, absolute);
  let data: unknown;
  try {
    data = JSON.parse(await readFile(absolute, 'utf8'));
  } catch (err) {
    io.stderr(`${shown}: unreadable: ${(err as Error).message}\n`);
    return ExitCode.usage;
  }
  const check = verifyDeploymentLog(data, keys.keys);
  if (!check.readable) {
    io.stderr(`${shown}: not a deployment log shipcheck can verify: ${check.why}\n`);
    return ExitCode.usage;
  }
  const { report, problems, release, recorded, anchors } = check;
  io.stdout(
    `${shown}: ${release.version} → ${release.env} (release ${release.id}, ${release.status}), ${plural(report.events, 'event')}\n`,
  );
  for (const problem of problems) io.stdout(`  ✗ ${describeProblem(problem, report.events)}\n`);
  if (report.sealsChecked) io.stdout(`  seals checked: sealed up to event ${report.sealedThrough}\n`);
  else io.stdout('  seals NOT checked: no AUDIT_KEY or AUDIT_OLD_KEYS; structure and hash chain only\n');
  if (report.notSealedYet > 0) io.stdout(`  ${plural(report.notSealedYet, 'event')} not sealed yet\n`);
  if (anchors.slack)
    io.stdout(
      `  the Slack anchor in the file: event ${anchors.slack.position}, seal ${anchors.slack.seal} (compare it with the release header)\n`,
    );
  else io.stdout('  the file carries no Slack anchor\n');
  if (recorded && !recorded.intact)
    io.stdout(
      `  the log itself says its trail did not verify when it was built (${plural(recorded.problems.length, 'problem')})\n`,
    );
  // A log built from a broken trail stays evidence of that, even if its file now checks out.
  if (problems.length > 0 || recorded?.intact === false) {
    io.stdout(`BROKEN: ${plural(problems.length, 'problem')} found in the file\n`);
    return ExitCode.problems;
  }
  io.stdout(report.sealsChecked ? 'OK: intact and sealed\n' : 'OK: intact (seals not checked)\n');
  return ExitCode.ok;
}
