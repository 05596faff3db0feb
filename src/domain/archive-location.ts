// Where a finished release's deployment log is archived before retention removes it:
// `<team>/<yyyy>/<release id>-<version>-<env>.json` and `.md`, relative to ARCHIVE_DIR. Every part is
// reduced to a plain file-name segment, so no version or environment string (typed by people) can
// name another folder. Pure: joining the parts onto the folder is the caller's.

export interface ArchiveLocation {
  /** Folders under the archive root, outermost first: the workspace, then the year the release ended (UTC). */
  folders: [team: string, year: string];
  /** The file name without extension; `.json` and `.md` share it. */
  stem: string;
}

/**
 * One path segment: letters, digits, `.`, `_` and `-`; never empty, never `.` or `..`, never
 * starting with a dot (no hidden files, no parent folders), at most `maxLength` characters.
 */
export function toSafeSegment(text: string, maxLength = 64): string {
  const safe = text
    .normalize('NFKC')
    .replace(/[^A-Za-z0-9._-]+/g, '_')
    .replace(/\.{2,}/g, '.')
    .slice(0, maxLength)
    .replace(/^[.-]+/, '')
    .replace(/\.+$/, '');
  return safe === '' ? '_' : safe;
}

export function archiveLocationOf(release: {
  teamId: string;
  id: string;
  version: string;
  env: string;
  /** When it ended (ms since the epoch); a release without one is filed under when it started. */
  finishedAt?: number;
  startedAt: number;
}): ArchiveLocation {
  const year = String(new Date(release.finishedAt ?? release.startedAt).getUTCFullYear());
  return {
    folders: [toSafeSegment(release.teamId, 32), year],
    stem: `${toSafeSegment(release.id, 32)}-${toSafeSegment(release.version)}-${toSafeSegment(release.env, 32)}`,
  };
}
