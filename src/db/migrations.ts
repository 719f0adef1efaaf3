import { fileURLToPath } from 'node:url';

/** drizzle-kit's migrations, applied at every start on both backends. */
export const migrationsFolder = fileURLToPath(new URL('../../drizzle', import.meta.url));
