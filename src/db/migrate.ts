import { readFile } from 'node:fs/promises';
import { sql } from 'drizzle-orm';
import type { PgliteDatabase } from 'drizzle-orm/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import type { DatabaseTarget } from '../config.js';
import type { Database } from './client.js';
import { migrations } from './migrations.js';
import { ensurePartitions } from './partitions.js';

// Any constant works; it only has to be the same in every Hookline process.
const MIGRATION_LOCK = 7_250_001;

/**
 * Applies the drizzle-kit migrations in `drizzle/`. On PostgreSQL a session advisory lock on a
 * dedicated connection makes processes that start together take turns instead of racing.
 */
export async function migrate(database: Database, target: DatabaseTarget): Promise<void> {
  if (target.kind === 'pglite') {
    const { migrate: migratePglite } = await import('drizzle-orm/pglite/migrator');
    await migratePglite(database.db as unknown as PgliteDatabase, migrations);
    await ensurePartitions(database);
    return;
  }
  if (!database.dedicated) throw new Error('migrate: a PostgreSQL database has a dedicated client');
  const client = database.dedicated();
  try {
    await client`select pg_advisory_lock(${MIGRATION_LOCK})`;
    await migratePostgres(drizzlePostgres(client), migrations);
  } finally {
    await client`select pg_advisory_unlock(${MIGRATION_LOCK})`.catch(() => {});
    await client.end({ timeout: 5 });
  }
  await ensurePartitions(database);
}

/**
 * True when every migration in the journal is recorded as applied. drizzle has no public way
 * to ask; its migrators write one row per migration into the table they are given, which
 * test/server/library-internals.test.ts checks against the journal.
 */
export async function migrationsApplied(database: Database): Promise<boolean> {
  const journal = JSON.parse(await readFile(`${migrations.migrationsFolder}/meta/_journal.json`, 'utf8')) as {
    entries: unknown[];
  };
  try {
    const [row] = await database.rows<{ n: number | string }>(
      sql`select count(*)::int as n
            from ${sql.identifier(migrations.migrationsSchema)}.${sql.identifier(migrations.migrationsTable)}`,
    );
    return Number(row?.n ?? 0) >= journal.entries.length;
  } catch {
    return false;
  }
}
