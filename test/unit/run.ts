import { readdirSync } from 'node:fs';

/**
 * Runs every test/unit/*.unit.ts in this one process, as `npm run test:unit` does: started one
 * process each (node --test), their start-up alone takes ten times as long as their tests.
 * One file runs on its own as any other: node --import tsx --test test/unit/<file>.unit.ts
 */
const here = new URL('.', import.meta.url);
for (const file of readdirSync(here)
  .filter((name) => name.endsWith('.unit.ts'))
  .sort()) {
  await import(new URL(file, here).href);
}
