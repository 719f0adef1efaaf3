#!/usr/bin/env node
// Builds the console (console/ -> console/dist/) for the server to serve at `/`; run by
// `prepare`, so `npm install` and `npm ci` build it. An install without the dev dependencies
// (npm ci --omit=dev) has no Vite: it says so and goes on, and `/` explains what is missing.
let vite;
try {
  vite = await import('vite');
} catch {
  console.warn('hookline: Vite is not installed (dev dependencies omitted?); the console is not built.');
  process.exit(0);
}
await vite.build({
  configFile: new URL('../console/vite.config.ts', import.meta.url).pathname,
  logLevel: process.env.CONSOLE_BUILD_LOG ?? 'warn',
});
