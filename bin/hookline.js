#!/usr/bin/env node
// Runs the compiled server (dist/, built from src/ by `npm install`'s `prepare` script or by
// `npm run build`): no TypeScript loader at run time, which cost about 85 MB a process.
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  process.stderr.write('hookline: dist/ is not built: run "npm install" (or "npm run build") first\n');
  process.exit(1);
}
await import(cli.href);
