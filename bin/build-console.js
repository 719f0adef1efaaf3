#!/usr/bin/env node
// Builds the console (console/ -> console/dist/) for the server to serve at `/`; run by
// `prepare`, so `npm install` and `npm ci` build it. An install without the dev dependencies
// (npm ci --omit=dev) has no Vite: it says so and goes on, and `/` explains what is missing.
import { createHash } from 'node:crypto';
import { writeFile } from 'node:fs/promises';

let vite;
try {
  vite = await import('vite');
} catch {
  console.warn('hookline: Vite is not installed (dev dependencies omitted?); the console is not built.');
  process.exit(0);
}
const configFile = new URL('../console/vite.config.ts', import.meta.url).pathname;
const logLevel = process.env.CONSOLE_BUILD_LOG ?? 'warn';

/**
 * The console's operations as trusted documents: its modules are loaded as a server-side
 * renderer would (no browser), each `graphql()` document registering itself (console/src/
 * graphql.ts), and each is written as urql sends it (with the `__typename` fields its cache
 * adds). Returns the manifest (SHA-256 -> text, for the server) and operation name -> SHA-256
 * (for the console, which sends the hash instead of the text).
 */
async function trustedDocuments() {
  // Vite's dev server sets NODE_ENV=development when unset, which the build would then take
  // for its own (React's development build, 3 times larger).
  const nodeEnv = process.env.NODE_ENV;
  const server = await vite.createServer({
    configFile,
    logLevel,
    appType: 'custom',
    server: { middlewareMode: true, hmr: false, ws: false },
    optimizeDeps: { noDiscovery: true },
  });
  try {
    await server.ssrLoadModule('/src/App.tsx');
    const { documents } = await server.ssrLoadModule('/src/graphql.ts');
    const { formatDocument, getOperationName, stringifyDocument } = await import('@urql/core');
    const manifest = {};
    const hashes = {};
    for (const document of documents) {
      const text = typeof document === 'string' ? document : stringifyDocument(formatDocument(document));
      const name =
        typeof document === 'string'
          ? /^\s*(?:query|mutation|subscription)\s+(\w+)/.exec(document)?.[1]
          : getOperationName(document);
      // Fragments are sent inside the operations that spread them.
      if (!name) continue;
      const hash = createHash('sha256').update(text).digest('hex');
      if (hashes[name] && hashes[name] !== hash) {
        throw new Error(`console: two different operations are named ${name}; each needs a name of its own`);
      }
      hashes[name] = hash;
      manifest[hash] = text;
    }
    return { manifest, hashes };
  } finally {
    await server.close();
    if (nodeEnv === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = nodeEnv;
  }
}

const { manifest, hashes } = await trustedDocuments();
await vite.build({ configFile, logLevel, define: { __TRUSTED_DOCUMENTS__: JSON.stringify(hashes) } });
await writeFile(
  new URL('../console/dist/trusted-documents.json', import.meta.url),
  `${JSON.stringify(manifest, null, 2)}\n`,
);
