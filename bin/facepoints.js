#!/usr/bin/env node
// The facepoints command. The TypeScript sources are compiled to dist/ by
// `npm run build:ts` (run by `npm install` through the prepare script).
import { existsSync } from 'node:fs';
import { URL, fileURLToPath } from 'node:url';

const entry = new URL('../dist/cli/main.js', import.meta.url);
if (!existsSync(fileURLToPath(entry))) {
  process.stderr.write(
    'facepoints: the compiled program (dist/cli/main.js) is missing: run `npm run build` (or `npm run build:ts`) in the facepoints folder first.\n',
  );
  process.exit(1);
}
const { main } = await import(entry.href);
process.exitCode = await main(process.argv.slice(2));
