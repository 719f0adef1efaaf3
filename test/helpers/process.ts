import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmod, mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

// The sources, through tsx: what is under test is src/ as it is now, not a dist/ built before
// (test/server/built.test.ts runs the bin on the compiled code).
const cli = fileURLToPath(new URL('../../src/cli.ts', import.meta.url));
const bin = fileURLToPath(new URL('../../bin/hookline.js', import.meta.url));

export interface HooklineProcess {
  child: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the base URL once the server logs that it listens. */
  listening: Promise<string>;
  /** Resolves once a log line matches `pattern`. */
  logged(pattern: RegExp, timeoutMs?: number): Promise<void>;
  /** Resolves with the exit code (or signal) once the process is gone. */
  exited: Promise<number | string>;
  kill(signal?: NodeJS.Signals): Promise<number | string>;
}

/**
 * Runs the `hookline` command as a user would. The environment is the given one only (plus
 * PATH), so a DATABASE_URL of the test run cannot leak in and swap the backend.
 */
export function runHookline(
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
  /** `bin`: bin/hookline.js, the compiled code in dist/ (build it first). */
  code: 'source' | 'bin' = 'source',
): HooklineProcess {
  const command = code === 'bin' ? [bin] : ['--import', 'tsx', cli];
  const child = spawn(process.execPath, [...command, ...args], {
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout?.setEncoding('utf8').on('data', (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding('utf8').on('data', (d: string) => {
    err += d;
  });
  const guard = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const exited = once(child, 'exit').then(([code, signal]) => {
    clearTimeout(guard);
    return (code ?? signal) as number | string;
  });
  const listening = new Promise<string>((resolve, reject) => {
    const check = () => {
      const match = /"url":"(http:\/\/[^"]+)\/graphql","msg":"listening"/.exec(out);
      if (match?.[1]) resolve(match[1]);
    };
    child.stdout?.on('data', check);
    exited.then((code) => reject(new Error(`hookline exited (${code}) before listening:\n${out}\n${err}`)));
  });
  listening.catch(() => {});
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    listening,
    exited,
    async logged(pattern, waitMs = 30_000) {
      const deadline = Date.now() + waitMs;
      while (!pattern.test(out)) {
        if (Date.now() > deadline || child.exitCode !== null) {
          throw new Error(`hookline never logged ${pattern}:\n${out}\n${err}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/**
 * A temporary directory for data directories of the embedded server: as root, that server
 * runs as the `postgres` user, which must be able to enter it (mkdtemp makes it 0700).
 */
export async function tempDir(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  await chmod(dir, 0o755);
  return dir;
}
