import { fileURLToPath } from 'node:url';

/** drizzle-kit's migrations, applied at every start on both backends. */
export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));

/**
 * What every migrator is given: the folder, and the table where drizzle records what it applied,
 * named here although these are drizzle's defaults. A default changed by a later drizzle would
 * otherwise start an empty table and apply every migration again on a database that has them;
 * `migrationsApplied` reads the table too.
 */
export const migrations = {
  migrationsFolder,
  migrationsSchema: 'drizzle',
  migrationsTable: '__drizzle_migrations',
} as const;
