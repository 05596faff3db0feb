import { type CommittedChange, seams } from '../../src/app/seams.js';

// Preloaded into a shipcheck process (node --import tsx --import ./test/support/crash-after-commit.ts)
// to kill it with SIGKILL at an exact point. Right after Redis has committed a change, before any of
// its follow-ups:
//
//   SHIPCHECK_CRASH_AFTER=deploy      the tick that deploys a release
//   SHIPCHECK_CRASH_AFTER=complete    the change that completes a release
//   SHIPCHECK_CRASH_AFTER=<intent>    the first commit of that intent (cancel, tick, rollback, …)
//   SHIPCHECK_CRASH_AFTER=random:0.1  any commit, with that probability (SHIPCHECK_CRASH_SEED seeds it)
//
// Or once a click that was read is noted in Redis, before its commit is sent:
//
//   SHIPCHECK_CRASH_BEFORE=tick | untick | random:0.1

const afterRule = process.env.SHIPCHECK_CRASH_AFTER ?? '';
const beforeRule = process.env.SHIPCHECK_CRASH_BEFORE ?? '';

function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

const random = seededRandom(Number(process.env.SHIPCHECK_CRASH_SEED ?? process.pid));

function matches(rule: string, change: Partial<CommittedChange>): boolean {
  if (rule.startsWith('random:')) return random() < Number(rule.slice('random:'.length));
  if (rule === 'deploy') return change.deployed === true;
  if (rule === 'complete') return change.completed === true;
  return change.intent === rule;
}

function crash(moment: string, change: Partial<CommittedChange>): void {
  process.stderr.write(`${JSON.stringify({ msg: 'crash seam fired', moment, ...change })}\n`);
  process.kill(process.pid, 'SIGKILL');
}

if (afterRule) {
  seams.afterCommit = (change) => {
    if (matches(afterRule, change)) crash('after commit', change);
  };
}
if (beforeRule) {
  seams.beforeCommit = async ({ noted, ...change }) => {
    if (!matches(beforeRule, change)) return;
    await noted;
    crash('before commit', change);
    await new Promise(() => undefined);
  };
}
