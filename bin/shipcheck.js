#!/usr/bin/env node
// `npx shipcheck lint` / `npx shipcheck preview`: runs the CLI that `npm run build` compiles to dist/.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(`shipcheck: ${fileURLToPath(entry)} is missing; run \`npm run build\` first.\n`);
  process.exit(1);
}
const { runFromCommandLine } = await import(entry.href);
await runFromCommandLine();
