import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

/** Where `npm install` (the `prepare` script) builds the console: console/dist at the top level. */
export const CONSOLE_DIR = fileURLToPath(new URL('../../console/dist/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
};

interface Asset {
  type: string;
  body: Buffer;
  gzip: Buffer | null;
  cache: string;
}

/**
 * The built console as a map of URL path to file, read once: a few hundred KB, so it is kept
 * in memory with its gzip, and no request path ever reaches the file system (no traversal to
 * guard against). Files under assets/ carry a content hash in their names, so browsers may
 * keep them for ever; index.html names them, so it is checked on every load.
 */
function loadAssets(dir: string): Map<string, Asset> | null {
  if (!existsSync(join(dir, 'index.html'))) return null;
  const assets = new Map<string, Asset>();
  const add = (urlPath: string, file: string, cache: string) => {
    const body = readFileSync(file);
    const type = TYPES[extname(file)] ?? 'application/octet-stream';
    const compressible = /^(text\/|application\/json|image\/svg)/.test(type) && body.length > 1024;
    assets.set(urlPath, { type, body, gzip: compressible ? gzipSync(body) : null, cache });
  };
  for (const name of readdirSync(dir)) {
    const file = join(dir, name);
    if (statSync(file).isFile()) add(`/${name}`, file, 'no-cache');
  }
  const hashed = join(dir, 'assets');
  if (existsSync(hashed)) {
    for (const name of readdirSync(hashed)) {
      add(`/assets/${name}`, join(hashed, name), 'public, max-age=31536000, immutable');
    }
  }
  const index = assets.get('/index.html');
  if (index) assets.set('/', index);
  return assets;
}

/**
 * Only this server's own scripts, styles and API; `connect-src` names ws:/wss: to this host
 * explicitly for graphql-ws, since older browsers do not count them as 'self'.
 */
function contentSecurityPolicy(req: IncomingMessage): string {
  const host = req.headers.host ?? '';
  const sockets = /^[A-Za-z0-9.:[\]-]+$/.test(host) ? ` ws://${host} wss://${host}` : '';
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    `connect-src 'self'${sockets}`,
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

const NOT_BUILT = `<!doctype html><meta charset="utf-8"><title>Hookline</title>
<h1>The Hookline console was not built</h1>
<p>Its files are made by <code>npm install</code> (the <code>prepare</code> script), or by
<code>npm run build:console</code>, into <code>console/dist/</code>. The API is at
<a href="/graphql">/graphql</a>.</p>`;

export interface ConsoleFiles {
  /** Answers a GET or HEAD of the console's files; false when the path is none of them. */
  serve(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

export function createConsoleFiles(dir: string = CONSOLE_DIR): ConsoleFiles {
  let assets: Map<string, Asset> | null = null;
  return {
    serve(req, res, path) {
      if (req.method !== 'GET' && req.method !== 'HEAD') return false;
      // Looked for again until found, so a console built after the server started is served.
      assets ??= loadAssets(dir);
      if (!assets) {
        if (path !== '/' && path !== '/index.html') return false;
        res.writeHead(503, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : NOT_BUILT);
        return true;
      }
      const asset = assets.get(path);
      if (!asset) return false;
      const gzip = asset.gzip && /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
      const body = gzip ? asset.gzip! : asset.body;
      const headers: Record<string, string> = {
        'content-type': asset.type,
        'content-length': String(body.length),
        'cache-control': asset.cache,
        'x-content-type-options': 'nosniff',
        vary: 'accept-encoding',
      };
      if (gzip) headers['content-encoding'] = 'gzip';
      if (asset.type.startsWith('text/html')) {
        headers['content-security-policy'] = contentSecurityPolicy(req);
        headers['referrer-policy'] = 'no-referrer';
        headers['x-frame-options'] = 'DENY';
      }
      res.writeHead(200, headers);
      res.end(req.method === 'HEAD' ? undefined : body);
      return true;
    },
  };
}
