import { readFile } from 'node:fs/promises';
import path from 'node:path';
import {
  type Document,
  isCollection,
  isScalar,
  LineCounter,
  parseDocument,
  visit,
  type YAMLError,
} from 'yaml';
import {
  explainIssues,
  formatIssuePath,
  ItemRecordSchema,
  parseTemplate,
  TemplateCriterionSchema,
  TemplateItemSchema,
  TemplatePhaseSchema,
  TemplateSchema,
  templateIdForFile,
} from '../config/checklists.js';
import type { Template } from '../domain/template.js';
import {
  type CliIo,
  DEFAULT_CHECKLISTS_DIR,
  displayPath,
  ExitCode,
  listTemplateFiles,
  pathKind,
  plural,
  TEMPLATE_FILE,
} from './io.js';
import { locateKey, locateOffset, locatePath } from './yaml-location.js';

// `shipcheck lint`: the checks loadTemplates makes at start-up, file by file, each problem reported
// as `file:line:column path: what is wrong`.

export interface LintProblem {
  /** 1-based; absent when the problem is about a path rather than a place in a file. */
  line?: number;
  column?: number;
  /** The template path, like `phases[2].items[4].id`; absent for YAML syntax errors. */
  path?: string;
  message: string;
}

export interface LintedFile {
  /** As shown to the user: relative to the working folder when inside it. */
  file: string;
  /** The template exactly as parseTemplate (so the bot) reads it, when the file has no problems. */
  template?: Template;
  problems: LintProblem[];
  /** Where the template's `id` value is written, for cross-file problems. */
  idLocation?: { line: number; column: number };
}

type SchemaIssue = NonNullable<ReturnType<typeof TemplateSchema.safeParse>['error']>['issues'][number];

/** The keys a strict mapping at this path allows, to suggest when a key is unknown. */
function allowedKeys(issuePath: readonly PropertyKey[]): string[] | undefined {
  const at = issuePath.map(String).join('.');
  const shape =
    issuePath.length === 0
      ? TemplateSchema.shape
      : /^phases\.\d+$/.test(at)
        ? TemplatePhaseSchema.shape
        : /^(phases\.\d+\.items|rollback\.items)\.\d+$/.test(at)
          ? TemplateItemSchema.shape
          : /^(success|go\.criteria|rollback\.criteria)\.\d+$/.test(at)
            ? TemplateCriterionSchema.shape
            : /^(phases\.\d+\.items|rollback\.items)\.\d+\.record$/.test(at)
              ? ItemRecordSchema.shape
              : undefined;
  return shape ? Object.keys(shape) : undefined;
}

/**
 * Where the quoted string or the [ ] / { } collection that `error` says is never closed starts: YAML
 * notices only where the file (or the block) ends, often many lines later.
 */
function unclosedStart(doc: Document, error: YAMLError): number | undefined {
  if (error.code !== 'MISSING_CHAR' && error.code !== 'BAD_INDENT') return undefined;
  let start: number | undefined;
  visit(doc, {
    Node(_key, node) {
      if (start !== undefined || node.range?.[1] !== error.pos[0]) return;
      const quoted = isScalar(node) && (node.type === 'QUOTE_DOUBLE' || node.type === 'QUOTE_SINGLE');
      if (quoted || (isCollection(node) && node.flow)) start = node.range[0];
    },
  });
  return start;
}

function unresolvedAliasStart(doc: Document): number | undefined {
  let start: number | undefined;
  visit(doc, {
    Alias(_key, node) {
      if (start === undefined && node.resolve(doc) === undefined) start = node.range?.[0];
    },
  });
  return start;
}

function yamlErrorProblem(doc: Document, error: YAMLError, lineCounter: LineCounter): LintProblem {
  const position = error.linePos?.[0];
  const noticed = position
    ? { line: position.line, column: position.col }
    : locateOffset(lineCounter, error.pos[0]);
  // prettyErrors appends " at line L, column C:" and a code excerpt; the location is printed already.
  const reason =
    error.code === 'MULTIPLE_DOCS'
      ? 'a template is one YAML document, and a --- line here starts another'
      : (error.message.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?\s*$/, '');
  const start = unclosedStart(doc, error);
  if (start === undefined) return { ...noticed, message: `not valid YAML: ${reason}` };
  return {
    ...locateOffset(lineCounter, start),
    message: `not valid YAML: ${reason} (for the one opened here; noticed at ${noticed.line}:${noticed.column})`,
  };
}

function issueProblems(doc: Document, lineCounter: LineCounter, issue: SchemaIssue): LintProblem[] {
  if (issue.code === 'unrecognized_keys') {
    const allowed = allowedKeys(issue.path);
    const hint = allowed ? ` (allowed here: ${allowed.join(', ')})` : '';
    return issue.keys.map((key) => {
      const { line, column } = locateKey(doc, lineCounter, issue.path, key);
      return { line, column, path: formatIssuePath([...issue.path, key]), message: `unknown field${hint}` };
    });
  }
  const location = locatePath(doc, lineCounter, issue.path);
  const message = location.found
    ? issue.message
    : doc.contents === null
      ? `the file has no template in it (expected a mapping with ${allowedKeys([])?.join(', ')})`
      : issue.code === 'invalid_type'
        ? `required field is missing (expected ${issue.expected})`
        : `missing: ${issue.message}`;
  return [{ line: location.line, column: location.column, path: formatIssuePath(issue.path), message }];
}

function byPosition(a: LintProblem, b: LintProblem): number {
  return (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0);
}

/**
 * Lints one template file's text. `file` is the name shown in messages and the one the template id
 * must match. Finds what parseTemplate finds, with line and column, and a little more: every unknown
 * key, and a wrong id even when other fields are wrong too.
 */
export function lintTemplateText(file: string, text: string): LintedFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true });
  if (doc.errors.length > 0) {
    return { file, problems: doc.errors.map((error) => yamlErrorProblem(doc, error, lineCounter)) };
  }
  let raw: unknown;
  try {
    raw = doc.toJS();
  } catch (err) {
    // An alias to an anchor that does not exist, or too many aliases.
    const at = unresolvedAliasStart(doc);
    const { line, column } = at === undefined ? { line: 1, column: 1 } : locateOffset(lineCounter, at);
    return { file, problems: [{ line, column, message: `not valid YAML: ${(err as Error).message}` }] };
  }

  const problems: LintProblem[] = [];
  const result = TemplateSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of explainIssues(result.error.issues)) {
      problems.push(...issueProblems(doc, lineCounter, issue));
    }
  }
  const idLocation = locatePath(doc, lineCounter, ['id']);
  const declaredId = (raw as { id?: unknown } | null)?.id;
  const expectedId = templateIdForFile(file);
  const idAlreadyWrong = problems.some((problem) => problem.path === 'id');
  if (typeof declaredId === 'string' && declaredId !== expectedId && !idAlreadyWrong) {
    problems.push({
      line: idLocation.line,
      column: idLocation.column,
      path: 'id',
      message: `"${declaredId}" must match the file name "${expectedId}"`,
    });
  }

  // What the bot does is the reference: never pass a file parseTemplate would refuse.
  const reference = parseTemplate(file, text);
  if ('problems' in reference && problems.length === 0) {
    for (const problem of reference.problems) {
      problems.push({ line: 1, column: 1, message: problem.replace(`${file}: `, '') });
    }
  }
  problems.sort(byPosition);
  const linted: LintedFile = { file, problems };
  if (idLocation.found) linted.idLocation = { line: idLocation.line, column: idLocation.column };
  if (problems.length === 0 && 'template' in reference) linted.template = reference.template;
  return linted;
}

/** Template ids must be unique: the bot keys templates by id, so a second file would replace the first. */
export function checkDuplicateIds(files: LintedFile[]): void {
  const firstById = new Map<string, LintedFile>();
  for (const linted of files) {
    const id = linted.template?.id;
    if (id === undefined) continue;
    const first = firstById.get(id);
    if (!first) {
      firstById.set(id, linted);
      continue;
    }
    const where = first.idLocation
      ? `${first.file}:${first.idLocation.line}:${first.idLocation.column}`
      : first.file;
    linted.problems.push({
      ...linted.idLocation,
      path: 'id',
      message: `duplicate template id "${id}": ${where} declares it too`,
    });
    delete linted.template;
  }
}

export function formatProblem(file: string, problem: LintProblem): string {
  const place = problem.line !== undefined ? `${file}:${problem.line}:${problem.column ?? 1}` : file;
  return problem.path ? `${place} ${problem.path}: ${problem.message}` : `${place}: ${problem.message}`;
}

function describeTemplate(template: Template): string {
  const items = template.phases.reduce((count, phase) => count + phase.items.length, 0);
  return `${plural(template.phases.length, 'phase')}, ${plural(items, 'item')}`;
}

/** One argument's outcome before reading: a template file to lint, or a problem with the argument itself. */
type Entry = { shown: string; absolute: string } | { unusable: LintedFile };

/** Expands the arguments, in order, into the files to lint; arguments that cannot be linted become problems. */
async function expandTargets(io: CliIo, targets: string[], byDefault: boolean): Promise<Entry[]> {
  const entries: Entry[] = [];
  const seen = new Set<string>();
  const add = (absolute: string) => {
    if (seen.has(absolute)) return;
    seen.add(absolute);
    entries.push({ absolute, shown: displayPath(io.cwd, absolute) });
  };
  const refuse = (target: string, message: string) =>
    entries.push({ unusable: { file: target, problems: [{ message }] } });
  for (const target of targets) {
    const absolute = path.resolve(io.cwd, target);
    const kind = await pathKind(absolute);
    if (kind === 'missing') {
      const hint = byDefault ? ' (run shipcheck from the project root, or name the folder with --dir)' : '';
      refuse(target, `no such file or folder${hint}`);
    } else if (kind === 'folder') {
      const names = await listTemplateFiles(absolute);
      if (names.length === 0) refuse(target, 'no checklist templates (*.yaml, *.yml) in this folder');
      for (const name of names) add(path.join(absolute, name));
    } else if (!TEMPLATE_FILE.test(absolute)) {
      refuse(target, 'not a template: the file name must end in .yaml or .yml');
    } else {
      add(absolute);
    }
  }
  return entries;
}

async function lintEntry(entry: Entry): Promise<LintedFile> {
  if ('unusable' in entry) return entry.unusable;
  let text: string;
  try {
    text = await readFile(entry.absolute, 'utf8');
  } catch (err) {
    return { file: entry.shown, problems: [{ message: `cannot read it (${(err as Error).message})` }] };
  }
  return lintTemplateText(entry.shown, text);
}

/** Runs `shipcheck lint`. With no targets, lints the checklist folder. */
export async function runLint(io: CliIo, targets: string[]): Promise<ExitCode> {
  const byDefault = targets.length === 0;
  const entries = await expandTargets(io, byDefault ? [DEFAULT_CHECKLISTS_DIR] : targets, byDefault);
  const results: LintedFile[] = [];
  for (const entry of entries) results.push(await lintEntry(entry));
  checkDuplicateIds(results);

  for (const result of results) {
    if (result.template) io.stdout(`✓ ${result.file}: ${describeTemplate(result.template)}\n`);
    for (const problem of result.problems) io.stdout(`${formatProblem(result.file, problem)}\n`);
  }
  const problemCount = results.reduce((count, result) => count + result.problems.length, 0);
  if (problemCount === 0) {
    io.stdout(`${plural(results.length, 'template')} OK\n`);
    return ExitCode.ok;
  }
  const badCount = results.filter((result) => result.problems.length > 0).length;
  io.stdout(`${plural(problemCount, 'problem')} in ${badCount} of ${plural(results.length, 'file')}\n`);
  return ExitCode.problems;
}
