// Test seams of the application layer. Production code never sets them; a test preloads a module that
// does (test/support/crash-after-commit.ts), so a process can be made to die at an exact point.

export interface CommittedChange {
  /** The intent that committed: start, tick, untick, cancel, … */
  intent: string;
  teamId: string;
  releaseId: string;
  /** A tick that deployed or completed the release says so. */
  deployed?: boolean;
  completed?: boolean;
}

export const seams: {
  /** Runs after a change and its audit event are committed, before anything follows from them. */
  afterCommit?: (change: CommittedChange) => void;
} = {};
