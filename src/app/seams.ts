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
  /**
   * Runs when a click was read and its note sent, before its commit is sent; the commit waits for it.
   * `noted` settles when the note is in Redis.
   */
  beforeCommit?: (
    change: Pick<CommittedChange, 'intent' | 'teamId' | 'releaseId'> & { noted?: Promise<void> },
  ) => Promise<void>;
} = {};
