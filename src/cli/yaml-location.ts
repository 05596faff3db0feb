import { type Document, isAlias, isMap, isScalar, isSeq, type LineCounter, type Node, type Pair } from 'yaml';

// Maps a zod issue path (["phases", 2, "items", 4, "id"]) to where it is in the YAML text, so that lint
// can print `file:line:column`.

export interface YamlLocation {
  /** 1-based, like editors and compilers print them. */
  line: number;
  column: number;
  /**
   * False when the path leads to something the file does not have (a missing key, an item past the end
   * of a list): the location is then that of the deepest node that exists, usually the parent mapping.
   */
  found: boolean;
}

const START: YamlLocation = { line: 1, column: 1, found: false };

export function locateOffset(lineCounter: LineCounter, offset: number): { line: number; column: number } {
  const { line, col } = lineCounter.linePos(offset);
  return { line, column: col };
}

function nodeStart(node: Node | null | undefined): number | undefined {
  return node?.range?.[0];
}

function resolve(doc: Document, node: unknown): unknown {
  return isAlias(node) ? node.resolve(doc) : node;
}

function keyMatches(key: unknown, segment: PropertyKey): boolean {
  const value = isScalar(key) ? key.value : key;
  return value !== null && value !== undefined && String(value) === String(segment);
}

function findPair(doc: Document, map: unknown, segment: PropertyKey): Pair | undefined {
  const resolved = resolve(doc, map);
  if (!isMap(resolved)) return undefined;
  return resolved.items.find((pair) => keyMatches(pair.key, segment));
}

interface Walk {
  /** The deepest node reached; the document's root when nothing was. */
  node: Node | null;
  found: boolean;
}

function walk(doc: Document, issuePath: readonly PropertyKey[]): Walk {
  let node = (doc.contents ?? null) as Node | null;
  for (const segment of issuePath) {
    const current = resolve(doc, node);
    if (isMap(current)) {
      const pair = findPair(doc, current, segment);
      if (!pair) return { node, found: false };
      // `key:` with nothing after it: point at the key.
      const value = pair.value as Node | null;
      const empty = !value?.range || (isScalar(value) && value.range[0] === value.range[1]);
      node = empty ? (pair.key as Node) : value;
    } else if (isSeq(current) && typeof segment === 'number') {
      const item = current.items[segment] as Node | null | undefined;
      if (!item) return { node, found: false };
      node = item;
    } else {
      return { node, found: false };
    }
  }
  return { node, found: true };
}

function toLocation(lineCounter: LineCounter, node: Node | null, found: boolean): YamlLocation {
  const offset = nodeStart(node);
  if (offset === undefined) return START;
  return { ...locateOffset(lineCounter, offset), found };
}

/** Where `issuePath` points in the document; for a missing key, at the mapping that should hold it. */
export function locatePath(
  doc: Document,
  lineCounter: LineCounter,
  issuePath: readonly PropertyKey[],
): YamlLocation {
  const { node, found } = walk(doc, issuePath);
  return toLocation(lineCounter, node, found);
}

/** Where the key `key` of the mapping at `mapPath` is written (for an unknown key, say). */
export function locateKey(
  doc: Document,
  lineCounter: LineCounter,
  mapPath: readonly PropertyKey[],
  key: string,
): YamlLocation {
  const parent = walk(doc, mapPath);
  if (!parent.found) return toLocation(lineCounter, parent.node, false);
  const pair = findPair(doc, parent.node, key);
  if (!pair) return toLocation(lineCounter, parent.node, false);
  return toLocation(lineCounter, pair.key as Node, true);
}
