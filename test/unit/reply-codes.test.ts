import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CREATE_REPLY_CODES,
  decodeCreateReply,
  decodeReply,
  REPLY_CODES,
} from '../../src/store/reply-codes.js';
import { readScript, SCRIPT_FILES } from '../../src/store/scripts.js';

const luaDir = new URL('../../src/store/lua/', import.meta.url);
const scriptNames = readdirSync(luaDir)
  .filter((file) => file.endsWith('.lua'))
  .map((file) => file.slice(0, -'.lua'.length));
const sources = [
  ...scriptNames.map((name) => ({ name, text: readFileSync(new URL(`${name}.lua`, luaDir), 'utf8') })),
  { name: 'includes/release', text: readFileSync(new URL('includes/release.lua', luaDir), 'utf8') },
];

/** The Lua without its comments, so a header's Output line is not mistaken for code. */
function code(text: string): string {
  return text.replace(/--\[\[[\s\S]*?\]\]/g, '').replace(/--.*$/gm, '');
}

describe('reply codes', () => {
  it('decodes every code of the tables to its name', () => {
    for (const [name, code] of Object.entries(REPLY_CODES)) expect(decodeReply([code, 'x'])).toBe(name);
    for (const [name, code] of Object.entries(CREATE_REPLY_CODES))
      expect(decodeCreateReply([code])).toBe(name);
  });

  it('refuses a code that is in no table, naming the reply', () => {
    expect(() => decodeReply([-13])).toThrow(
      'release script replied [-13]: its code is not in reply-codes.ts',
    );
    expect(() => decodeReply([2, 'r1'])).toThrow(/not in reply-codes/);
    expect(() => decodeReply('OK')).toThrow(/replied "OK"/);
    expect(() => decodeCreateReply([0, 'r1'])).toThrow(/create-release replied \[0,"r1"\]/);
  });

  it('names only codes the tables have, in every script', () => {
    for (const { name, text } of sources) {
      for (const [, table, key] of code(text).matchAll(/\b(REPLY|CREATE_REPLY)\.([A-Z_]+)/g)) {
        const codes: Record<string, number> = table === 'REPLY' ? REPLY_CODES : CREATE_REPLY_CODES;
        expect(codes, `${name}: ${table}.${key}`).toHaveProperty(key!);
      }
    }
  });

  it('leaves no bare number where a reply code belongs', () => {
    for (const { name, text } of sources) {
      expect(code(text), name).not.toMatch(/return\s*\{\s*-?\d/);
    }
  });

  it('puts the table in a script once, before its first use', () => {
    for (const file of Object.values(SCRIPT_FILES)) {
      const source = readScript(file);
      const uses = source.indexOf('REPLY.');
      if (uses === -1) continue;
      const definitions = source.match(/^local (CREATE_)?REPLY = /gm) ?? [];
      expect(new Set(definitions).size, file).toBe(definitions.length);
      expect(source.search(/^local (CREATE_)?REPLY = /m), file).toBeLessThan(uses);
    }
  });
});
