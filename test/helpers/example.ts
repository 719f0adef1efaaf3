import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface Program {
  child: ChildProcess;
  /** Every line it has printed on stdout so far. */
  lines(): string[];
  output(): string;
  /** Resolves with the first line that satisfies `predicate`, or rejects after `timeoutMs`. */
  line(predicate: (line: string) => boolean, timeoutMs?: number): Promise<string>;
  /** The exit code (or signal) once it is gone; it is killed after the run's time limit. */
  exited: Promise<number | string>;
  stop(): Promise<number | string>;
}

/**
 * Runs one of the programs under examples/ as a user would, from the repository's root, with
 * PATH and `env` as its only environment.
 */
export function runProgram(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs = 60_000,
): Program {
  const child = spawn(command, args, {
    cwd: repoRoot,
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
  const lines = () => out.split('\n').filter((l) => l !== '');
  return {
    child,
    lines,
    output: () => `${out}${err ? `\n[stderr]\n${err}` : ''}`,
    async line(predicate, waitMs = 20_000) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const found = lines().find(predicate);
        if (found !== undefined) return found;
        if (Date.now() > deadline || child.exitCode !== null || child.signalCode !== null) {
          throw new Error(`${args.at(-1) ?? command}: no such line within ${waitMs} ms:\n${out}\n${err}`);
        }
        await new Promise((r) => setTimeout(r, 20));
      }
    },
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** A TypeScript example, run through tsx as `npx tsx <file>` would. */
export const runTypeScript = (file: string, env: Record<string, string>, timeoutMs?: number) =>
  runProgram(process.execPath, ['--import', 'tsx', file], env, timeoutMs);
