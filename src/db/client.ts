import { mkdir } from 'node:fs/promises';
import { is, type SQL, sql } from 'drizzle-orm';
import { type PgDatabase, PgDialect, type PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { drizzle as drizzlePostgres, PostgresJsSession } from 'drizzle-orm/postgres-js';
import postgres from 'postgres';
import type { DatabaseTarget } from '../config.js';
import type { Logger } from '../logger.js';
import { startEmbedded } from './embedded.js';
import { importPgliteData, movePgliteAside } from './import-pglite.js';
import * as schema from './schema.js';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: 'postgres' | 'pglite';
  /** Rows of a hand-written statement, the same shape on both drivers. */
  rows<T = Record<string, unknown>>(query: SQL, executor?: Db): Promise<T[]>;
  /**
   * Like `rows`, as a named prepared statement on PostgreSQL: planned once per connection
   * instead of on every call. Only for hot statements whose text never varies (every value a
   * parameter), since each distinct text stays prepared on every connection.
   */
  prepared<T = Record<string, unknown>>(query: SQL): Promise<T[]>;
  /**
   * Like `prepared`, each row as an array of its columns in the statement's order: the
   * driver then fills arrays rather than objects keyed by 60-odd column names (the claim).
   */
  preparedValues(query: SQL): Promise<unknown[][]>;
  /** LISTEN on a channel (NOTIFY from any process on PostgreSQL, this process on PGlite). */
  /** Statements sent so far (PostgreSQL; 0 on PGlite): what /metrics reports. */
  statements(): number;
  listen(
    channel: string,
    onNotify: (payload: string) => void,
    /** Called each time the LISTEN is (re-)established: what was sent meanwhile is lost. */
    onListen?: () => void,
  ): Promise<() => Promise<void>>;
  /** A client of one connection of its own (PostgreSQL only): for the migration lock. */
  dedicated?(): postgres.Sql;
  close(): Promise<void>;
}

/** Drivers disagree on what `execute` returns: postgres.js an array, PGlite `{ rows }`. */
export async function rowsOf<T>(executor: Db, query: SQL): Promise<T[]> {
  const result = (await executor.execute(query)) as unknown;
  return (Array.isArray(result) ? result : (result as { rows: T[] }).rows) as T[];
}

const dialect = new PgDialect();

/**
 * `query` as one piece of text, compiled once by drizzle: for fragments without parameters
 * (identifiers, column lists) reused in statements compiled on every call.
 */
export function compiledOnce(query: SQL): SQL {
  const { sql: text, params } = dialect.sqlToQuery(query);
  if (params.length) throw new Error('compiledOnce: a fragment with parameters cannot be inlined');
  return sql.raw(text);
}

/**
 * Like `rowsOf`, as a named prepared statement when `executor` is a postgres.js pool or
 * transaction: parsed and planned once per connection instead of on every call, which for
 * the publish and record statements (data-modifying CTEs) costs more than running them. Only
 * for statements whose text never varies (every value a parameter), since each distinct text
 * stays prepared on every connection. PGlite runs it as `rowsOf` does.
 */
export async function preparedRows<T>(executor: Db, query: SQL): Promise<T[]> {
  return (await runPrepared(executor, query, false)) as T[];
}

/** `preparedRows`, each row as an array of its columns in the statement's order. */
export async function preparedValues(executor: Db, query: SQL): Promise<unknown[][]> {
  return (await runPrepared(executor, query, true)) as unknown[][];
}

async function runPrepared(executor: Db, query: SQL, values: boolean): Promise<unknown[]> {
  // drizzle cannot prepare a hand-written statement. `_.session`, unlike the `session` beside
  // it, is in drizzle's declared types, as is a postgres.js session's `client` (the pool's or
  // the transaction's connection): a rename fails the typecheck. A change that left them typed
  // but made this fall back to `rowsOf` would only make the statements unprepared, which
  // test/server/library-internals.test.ts sees on the wire.
  const session = executor._.session;
  if (!is(session, PostgresJsSession)) {
    const rows = await rowsOf<Record<string, unknown>>(executor, query);
    // PGlite's rows are objects keyed by column name, in the statement's order.
    return values ? rows.map((row) => Object.values(row)) : rows;
  }
  const { client, logger } = session;
  const { sql: text, params } = dialect.sqlToQuery(query);
  // Told to drizzle's logger as its own queries are (the statement count of /metrics).
  logger.logQuery(text, params);
  // `simple: false`: postgres.js sends a query without parameters as a simple query, which is
  // planned on every call and never prepared.
  const pending = client.unsafe(
    text,
    params as postgres.ParameterOrJSON<never>[],
    {
      prepare: true,
      simple: false,
    } as postgres.UnsafeQueryOptions,
  );
  return (values ? await pending.values() : await pending) as unknown[];
}

export const DATABASE_POOL_SIZE = 10;

/**
 * A query built once per executor and run as a prepared statement: for reads on the
 * dispatcher's hot path, where building the query and planning it cost more than running it.
 * (Per executor: a transaction is a new one each time, so this is for the pool's `db`.)
 */
export function preparedPer<Q>(build: (db: Db) => Q): (db: Db) => Q {
  const built = new WeakMap<Db, Q>();
  return (db) => {
    let query = built.get(db);
    if (!query) {
      query = build(db);
      built.set(db, query);
    }
    return query;
  };
}

export interface OpenOptions {
  /** Pool size for PostgreSQL; PGlite is one connection whatever this says. */
  maxConnections?: number;
  /** Where the embedded server's log lines go. */
  logger?: Logger;
}

/** Options of a postgres.js client of the target: DATABASE_URL's, or the embedded server's socket. */
type Connect = (options: postgres.Options<{}>) => postgres.Sql;

export async function openDatabase(target: DatabaseTarget, options: OpenOptions = {}): Promise<Database> {
  if (target.kind === 'postgres') {
    return openPostgres((o) => postgres(target.url, o), options);
  }
  if (target.kind === 'embedded') {
    const logger = options.logger?.child({ component: 'postgres' });
    await movePgliteAside(target.dataDir);
    const server = await startEmbedded({
      dataDir: target.dataDir,
      log: (level, line) => logger?.[level]({ line }, 'embedded postgres'),
    });
    try {
      await importPgliteData(target.dataDir, server.connection, logger);
      const database = await openPostgres((o) => postgres({ ...o, ...server.connection }), options);
      return {
        ...database,
        async close() {
          await database.close();
          await server.stop();
        },
      };
    } catch (error) {
      await server.stop();
      throw error;
    }
  }
  if (target.dataDir) await mkdir(target.dataDir, { recursive: true });
  // Imported only here: a server on PostgreSQL never loads PGlite (about 4 MB of heap).
  const [{ PGlite }, { drizzle: drizzlePglite }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('drizzle-orm/pglite'),
  ]);
  const client = target.dataDir ? new PGlite(target.dataDir) : new PGlite();
  await client.waitReady;
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    kind: 'pglite',
    rows: (query, executor = db) => rowsOf(executor, query),
    prepared: (query) => rowsOf(db, query),
    preparedValues: (query) => preparedValues(db, query),
    statements: () => 0,
    async listen(channel, onNotify, onListen) {
      const unlisten = await client.listen(channel, onNotify);
      onListen?.();
      return () => unlisten();
    },
    close: () => client.close(),
  };
}

async function openPostgres(connect: Connect, options: OpenOptions): Promise<Database> {
  let statements = 0;
  const client = connect({
    max: options.maxConnections ?? DATABASE_POOL_SIZE,
    onnotice: () => {},
    // Prepared statements are only the hot ones of constant shape (`prepared` below): plan
    // them once, not on every call as a custom plan (4 ms a claim with 1,000 webhooks).
    connection: { application_name: 'hookline', plan_cache_mode: 'force_generic_plan' },
  });
  // Counts what drizzle sends (BEGIN and COMMIT are postgres.js's own, not counted).
  const logger = {
    logQuery: () => {
      statements++;
    },
  };
  const db = drizzlePostgres(client, { schema, logger }) as unknown as Db;
  return {
    db,
    kind: 'postgres',
    rows: (query, executor = db) => rowsOf(executor, query),
    prepared: (query) => preparedRows(db, query),
    preparedValues: (query) => preparedValues(db, query),
    statements: () => statements,
    dedicated: () => connect({ max: 1, onnotice: () => {}, connection: { application_name: 'hookline' } }),
    async listen(channel, onNotify, onListen) {
      const { unlisten } = await client.listen(channel, onNotify, onListen);
      return unlisten;
    },
    close: () => client.end({ timeout: 5 }),
  };
}

export const ping = (database: Database) => database.rows(sql`select 1 as ok`);

/** The `code`s along an error's cause chain: drizzle wraps driver errors, and may wrap twice. */
function codesOf(error: unknown): string[] {
  const codes: string[] = [];
  for (let e = error as { code?: unknown; cause?: unknown } | undefined, i = 0; e && i < 4; i++) {
    if (typeof e.code === 'string') codes.push(e.code);
    e = e.cause as typeof e;
  }
  return codes;
}

/** The SQLSTATE of a driver error, whether or not drizzle wrapped it. */
export const sqlState = (error: unknown): string | undefined =>
  codesOf(error).find((code) => /^[0-9A-Z]{5}$/.test(code));

const connectionCodes = new Set([
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  'CONNECT_TIMEOUT',
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
]);

/**
 * Whether an error means the database could not be reached (the server restarting, a network
 * drop) rather than that the statement was wrong: worth trying again after a pause.
 */
/** How long to wait after `failures` failed tries to reach the database: 250 ms doubling to 10 s, quick to recover from a blip and gentle on a database that is down. */
export const reconnectDelay = (failures: number) => Math.min(10_000, 250 * 2 ** Math.max(0, failures - 1));

export const isConnectionError = (error: unknown): boolean =>
  // 08: connection exception; 57P01-03: admin shutdown, crash shutdown, cannot connect now.
  codesOf(error).some(
    (code) => connectionCodes.has(code) || code.startsWith('08') || /^57P0[123]$/.test(code),
  );
