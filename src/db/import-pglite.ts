import { existsSync } from 'node:fs';
import { mkdir, readdir, rename } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePostgres } from 'drizzle-orm/postgres-js';
import { migrate as migratePostgres } from 'drizzle-orm/postgres-js/migrator';
import postgres from 'postgres';
import type { Logger } from '../logger.js';
import { migrations } from './migrations.js';

/**
 * Carries the data of an embedded PGlite (the default before the embedded PostgreSQL server)
 * over to the server, once: PGlite kept its files in the data directory itself, where the
 * server's cluster is `postgres/`. They are moved to `pglite-backup/` (kept, never deleted),
 * then copied table by table into the server in one transaction, marked done by a comment on
 * the public schema in that same transaction: a crash at any point leaves either nothing
 * imported (done again at the next start) or all of it.
 */

export const BACKUP = 'pglite-backup';
const IMPORTED = 'hookline: imported from pglite-backup';
// Names the embedded server keeps in the data directory (db/embedded.ts): never PGlite's.
const ours = new Set(['postgres', 'postgres.init', 'run', BACKUP]);
// 1,024 pages (8 MiB of table) per COPY: PGlite holds each batch in memory as one piece.
const PAGES_PER_BATCH = 1024;

/**
 * Moves a PGlite data directory's files into `pglite-backup/`, before the server starts there.
 * PG_VERSION goes last, so a crash midway is finished at the next start.
 */
export async function movePgliteAside(dataDir: string): Promise<void> {
  const dir = resolve(dataDir);
  if (!existsSync(join(dir, 'PG_VERSION'))) return;
  const backup = join(dir, BACKUP);
  await mkdir(backup, { recursive: true });
  const entries = (await readdir(dir)).filter((name) => !ours.has(name) && name !== 'PG_VERSION');
  for (const name of [...entries, 'PG_VERSION']) await rename(join(dir, name), join(backup, name));
}

export async function importPgliteData(
  dataDir: string,
  connection: postgres.Options<{}>,
  logger?: Logger,
): Promise<void> {
  const backup = join(resolve(dataDir), BACKUP);
  if (!existsSync(join(backup, 'PG_VERSION'))) return;
  const target = postgres({ ...connection, max: 1, onnotice: () => {} });
  let source: PGlite | undefined;
  try {
    const [done] = await target<{ comment: string | null }[]>`
      select obj_description('public'::regnamespace, 'pg_namespace') as comment`;
    if (done?.comment?.startsWith(IMPORTED)) return;
    const started = performance.now();
    logger?.info({ from: backup }, 'importing the data of the embedded PGlite database');
    // Loaded only for an import, which happens once if ever.
    const [{ PGlite }, { drizzle: drizzlePglite }, { migrate: migratePglite }] = await Promise.all([
      import('@electric-sql/pglite'),
      import('drizzle-orm/pglite'),
      import('drizzle-orm/pglite/migrator'),
    ]);
    source = new PGlite(backup);
    await source.waitReady;
    // Both at the schema of this version: PGlite's data may be of an older one.
    await migratePglite(drizzlePglite(source), migrations);
    await migratePostgres(drizzlePostgres(target), migrations);
    const pglite = source;
    const tables = (
      await pglite.query<{ name: string; pages: number }>(
        `select c.relname as name, (pg_relation_size(c.oid) / current_setting('block_size')::int)::int as pages
         from pg_class c join pg_namespace n on n.oid = c.relnamespace
         where n.nspname = 'public' and c.relkind = 'r' order by c.relname`,
      )
    ).rows;
    const copied: Record<string, number> = {};
    await target.begin(async (tx) => {
      // No foreign-key checks or triggers (the NOTIFY ones) while copying consistent data,
      // so the tables may go in any order.
      await tx`set local session_replication_role = replica`;
      for (const { name, pages } of tables) {
        const columns = (
          await pglite.query<{ name: string }>(
            `select attname as name from pg_attribute
             where attrelid = $1::regclass and attnum > 0 and not attisdropped and attgenerated = ''
             order by attnum`,
            [`public."${name}"`],
          )
        ).rows
          .map((c) => `"${c.name}"`)
          .join(', ');
        copied[name] = 0;
        for (let first = 0; first <= pages; first += PAGES_PER_BATCH) {
          // A range of the table's pages (a TID range scan): no key or order needed.
          const { blob } = await pglite.query(
            `copy (select ${columns} from public."${name}"
               where ctid >= '(${first},0)'::tid and ctid < '(${first + PAGES_PER_BATCH},0)'::tid)
             to '/dev/blob'`,
          );
          if (!blob?.size) continue;
          const text = await blob.text();
          copied[name] += text.split('\n').length - 1;
          const writable = await tx.unsafe(`copy public."${name}" (${columns}) from stdin`).writable();
          await pipeline(Readable.from([text]), writable);
        }
      }
      const sequences = (
        await pglite.query<{ name: string; value: string }>(
          `select sequencename as name, last_value::text as value from pg_sequences
           where schemaname = 'public' and last_value is not null`,
        )
      ).rows;
      for (const { name, value } of sequences) await tx`select setval(${`public."${name}"`}, ${value})`;
      await tx.unsafe(`comment on schema public is '${IMPORTED} ${new Date().toISOString()}'`);
    });
    logger?.info(
      { rows: copied, ms: Math.round(performance.now() - started), backup },
      'imported the embedded PGlite database (its files are kept in the backup directory)',
    );
  } finally {
    await source?.close();
    await target.end({ timeout: 5 });
  }
}
