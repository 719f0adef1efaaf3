#!/usr/bin/env node
// `prepare` (so `npm install` and `npm ci` run it): compiles the server (src/ -> dist/, what
// `npm start` and the `hookline` bin run), then builds the console. An install without the dev
// dependencies has no TypeScript compiler: it says so and keeps a dist/ built before.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

let tsc;
try {
  tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
} catch {
  const built = existsSync(new URL('../dist/cli.js', import.meta.url));
  console.warn(
    `hookline: TypeScript is not installed (dev dependencies omitted?); ${built ? 'keeping the dist/ built before' : 'dist/ is not built, so the server cannot start'}.`,
  );
}
if (tsc) {
  const project = fileURLToPath(new URL('../tsconfig.build.json', import.meta.url));
  execFileSync(process.execPath, [tsc, '-p', project], { stdio: 'inherit' });
}
await import('./build-console.js');
