import { readdir, stat } from 'node:fs/promises';
import path from 'node:path';

/** Where the CLI writes and which folder relative paths start from; tests pass their own. */
export interface CliIo {
  /** Receives whole lines, each ending in "\n". */
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  cwd: string;
  /** The audit key variables for verify-log; tests pass their own, and nothing else is read. */
  env?: Readonly<Record<string, string | undefined>>;
}

/**
 * 0: everything checked is fine.
 * 1: the command ran and found a problem: an invalid template, a file or folder that does not exist,
 *    an unknown template or phase.
 * 2: the command line itself is wrong: unknown command or option, missing or extra arguments.
 */
export const ExitCode = { ok: 0, problems: 1, usage: 2 } as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

export const DEFAULT_CHECKLISTS_DIR = 'checklists';

export const TEMPLATE_FILE = /\.ya?ml$/;

export function plural(count: number, word: string, pluralWord = `${word}s`): string {
  return `${count} ${count === 1 ? word : pluralWord}`;
}

/** A path as the user should read it: relative to the working folder when inside it. */
export function displayPath(cwd: string, absolutePath: string): string {
  const relative = path.relative(cwd, absolutePath);
  if (relative === '') return '.';
  return relative.startsWith('..') || path.isAbsolute(relative) ? absolutePath : relative;
}

export type PathKind = 'file' | 'folder' | 'missing';

export async function pathKind(absolutePath: string): Promise<PathKind> {
  try {
    return (await stat(absolutePath)).isDirectory() ? 'folder' : 'file';
  } catch {
    return 'missing';
  }
}

/** The template files of a folder, as loadTemplates reads them: *.yaml and *.yml, not recursive, sorted. */
export async function listTemplateFiles(folder: string): Promise<string[]> {
  return (await readdir(folder)).filter((name) => TEMPLATE_FILE.test(name)).sort();
}
