import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

/**
 * Builds the console from its sources, as `npm install` does, so the browser tests see the
 * code as it is now rather than an older build (about a second).
 */
export async function buildConsole(): Promise<void> {
  await promisify(execFile)(process.execPath, ['bin/build-console.js'], { timeout: 120_000 });
}
