import { randomBytes } from 'node:crypto';
import postgres from 'postgres';

export interface Backend {
  name: 'pglite' | 'postgres';
  /** A fresh, empty database for one test file, and how to remove it. */
  create(): Promise<{ url: string; drop(): Promise<void> }>;
}

const adminUrl = process.env.TEST_DATABASE_URL || process.env.DATABASE_URL || undefined;

const pglite: Backend = {
  name: 'pglite',
  create: async () => ({ url: 'memory://', drop: async () => {} }),
};

/** One database per test file, as graphile-worker's tests do, so files can run in parallel. */
export const postgresBackend = (url: string): Backend => ({
  name: 'postgres',
  async create() {
    const name = `hookline_test_${randomBytes(6).toString('hex')}`;
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`create database ${name}`);
    await admin.end();
    const target = new URL(url);
    target.pathname = `/${name}`;
    return {
      url: target.toString(),
      async drop() {
        const dropper = postgres(url, { max: 1, onnotice: () => {} });
        await dropper.unsafe(`drop database if exists ${name} with (force)`);
        await dropper.end();
      },
    };
  },
});

/**
 * Embedded PGlite always; PostgreSQL too when TEST_DATABASE_URL (or DATABASE_URL) names a
 * server, so CI proves both backends with one suite.
 */
export function backends(): Backend[] {
  return adminUrl ? [pglite, postgresBackend(adminUrl)] : [pglite];
}

export const postgresUrl = adminUrl;
