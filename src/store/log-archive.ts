import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, stat, unlink } from 'node:fs/promises';
import path from 'node:path';
import type { ArchiveLocation } from '../domain/archive-location.js';

// The archive folder (ARCHIVE_DIR): deployment logs of releases the retention sweep is about to
// remove. A file is written to a temporary name in its own folder, flushed to disk, renamed into
// place, and the folder flushed too, so after write() resolves the files survive a crash or power
// loss, and nobody ever sees half a file. Writing again replaces a file in one step: a sweep that
// died after writing simply writes the same release again.

/** Why an archive write failed; the label of `shipcheck_archive_failures_total`. */
export type ArchiveFailureReason =
  | 'not_configured'
  | 'missing_folder'
  | 'permission'
  | 'read_only'
  | 'disk_full'
  | 'io_error'
  | 'render_failed'
  | 'no_release_record';

export class ArchiveWriteError extends Error {
  constructor(
    readonly reason: ArchiveFailureReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'ArchiveWriteError';
  }
}

export interface ArchiveFile {
  extension: 'json' | 'md';
  content: string;
}

/** The reason label for a file system error code. */
export function archiveFailureReasonOf(code: string | undefined): ArchiveFailureReason {
  switch (code) {
    case 'ENOENT':
    case 'ENOTDIR':
      return 'missing_folder';
    case 'EACCES':
    case 'EPERM':
      return 'permission';
    case 'EROFS':
      return 'read_only';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'disk_full';
    default:
      return 'io_error';
  }
}

function toArchiveError(err: unknown, doing: string): ArchiveWriteError {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const detail = err instanceof Error ? err.message : String(err);
  return new ArchiveWriteError(archiveFailureReasonOf(code), `${doing}: ${detail}`, { cause: err });
}

/** Flushes a folder's entries (new names, renames) to disk. */
async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class LogArchive {
  /** An existing folder: on a mounted volume in production. */
  readonly root: string;

  constructor(root: string) {
    this.root = path.resolve(root);
  }

  /**
   * Writes the files of one release under its location, durably; resolves with their paths.
   * Throws ArchiveWriteError, with a reason, when anything fails; nothing half-written is left.
   */
  async write(location: ArchiveLocation, files: readonly ArchiveFile[]): Promise<string[]> {
    await this.checkRoot();
    const folder = path.join(this.root, ...location.folders);
    // The location's segments are sanitized already; this keeps a future change from escaping the root.
    const relative = path.relative(this.root, folder);
    if (relative.startsWith('..') || path.isAbsolute(relative))
      throw new ArchiveWriteError('io_error', `archive path leaves the archive folder: ${relative}`);
    let created: string | undefined;
    try {
      created = await mkdir(folder, { recursive: true, mode: 0o750 });
    } catch (err) {
      throw toArchiveError(err, `cannot create ${folder}`);
    }
    const suffix = `${process.pid}-${randomBytes(4).toString('hex')}`;
    const pending = files.map((file) => {
      const name = `${location.stem}.${file.extension}`;
      return {
        file,
        temporary: path.join(folder, `.${name}.${suffix}.tmp`),
        final: path.join(folder, name),
      };
    });
    try {
      for (const { file, temporary } of pending) {
        // Read-only once written: an archive is evidence, not a working file.
        const handle = await open(temporary, 'wx', 0o440);
        try {
          await handle.writeFile(file.content, 'utf8');
          await handle.sync();
        } finally {
          await handle.close();
        }
      }
      for (const { temporary, final } of pending) await rename(temporary, final);
      await syncFolder(folder);
      // New folders are entries of their parents: flush those too, up to the root.
      if (created !== undefined) {
        for (let parent = path.dirname(folder); parent.startsWith(this.root); parent = path.dirname(parent)) {
          await syncFolder(parent);
          if (parent === this.root) break;
        }
      }
    } catch (err) {
      await Promise.all(pending.map(({ temporary }) => unlink(temporary).catch(() => undefined)));
      throw toArchiveError(err, `cannot write the archive of ${location.stem} in ${folder}`);
    }
    return pending.map(({ final }) => final);
  }

  /** Checks that the folder can take a file now (at start-up), so a bad mount shows before a sweep. */
  async probe(): Promise<void> {
    await this.checkRoot();
    const probe = path.join(this.root, `.probe-${process.pid}-${randomBytes(4).toString('hex')}.tmp`);
    try {
      const handle = await open(probe, 'wx', 0o600);
      await handle.close();
      await unlink(probe);
    } catch (err) {
      throw toArchiveError(err, `cannot write in ${this.root}`);
    }
  }

  // The root is never created here: a missing folder usually means the volume is not mounted, and
  // an archive written to the machine's own disk would vanish with it.
  private async checkRoot(): Promise<void> {
    let isFolder: boolean;
    try {
      isFolder = (await stat(this.root)).isDirectory();
    } catch (err) {
      throw toArchiveError(err, `ARCHIVE_DIR ${this.root} is not there`);
    }
    if (!isFolder) throw new ArchiveWriteError('missing_folder', `ARCHIVE_DIR ${this.root} is not a folder`);
  }
}
