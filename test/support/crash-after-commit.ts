import { type CommittedChange, seams } from '../../src/app/seams.js';

// Preloaded into a shipcheck process (node --import tsx --import ./test/support/crash-after-commit.ts)
// to kill it with SIGKILL right after Redis has committed a change, before any of its follow-ups:
//
//   SHIPCHECK_CRASH_AFTER=deploy      the tick that deploys a release
//   SHIPCHECK_CRASH_AFTER=complete    the change that completes a release
//   SHIPCHECK_CRASH_AFTER=<intent>    the first commit of that intent (cancel, tick, rollback, …)
//   SHIPCHECK_CRASH_AFTER=random:0.1  any commit, with that probability (SHIPCHECK_CRASH_SEED seeds it)

const rule = process.env.SHIPCHECK_CRASH_AFTER ?? '';

function seededRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    return (state >>> 0) / 2 ** 32;
  };
}

function matches(change: CommittedChange, random: () => number): boolean {
  if (rule.startsWith('random:')) return random() < Number(rule.slice('random:'.length));
  if (rule === 'deploy') return change.deployed === true;
  if (rule === 'complete') return change.completed === true;
  return change.intent === rule;
}

if (rule) {
  const random = seededRandom(Number(process.env.SHIPCHECK_CRASH_SEED ?? process.pid));
  seams.afterCommit = (change) => {
    if (!matches(change, random)) return;
    process.stderr.write(`${JSON.stringify({ msg: 'crash seam fired', ...change })}\n`);
    process.kill(process.pid, 'SIGKILL');
  };
}
