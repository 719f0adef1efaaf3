import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { gunzipSync } from 'node:zlib';
import { createConsoleFiles } from '../../src/http/console.js';

/** The module alone, behind a plain HTTP server, on a made-up build. */
async function serveDir(dir: string): Promise<{ url: string; server: Server }> {
  const files = createConsoleFiles(dir);
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (!files.serve(req, res, path)) {
      res.writeHead(404);
      res.end('not found');
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('the console files (src/http/console.ts)', () => {
  let dir: string;
  let built: { url: string; server: Server };
  let empty: { url: string; server: Server };
  const script = `console.log(${JSON.stringify('x'.repeat(4000))});`;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hookline-console-'));
    mkdirSync(join(dir, 'built', 'assets'), { recursive: true });
    mkdirSync(join(dir, 'empty'));
    writeFileSync(
      join(dir, 'built', 'index.html'),
      '<!doctype html><script src="/assets/index-AbC123.js"></script>',
    );
    writeFileSync(join(dir, 'built', 'assets', 'index-AbC123.js'), script);
    writeFileSync(join(dir, 'built', 'assets', 'index-AbC123.css'), 'body{}');
    built = await serveDir(join(dir, 'built'));
    empty = await serveDir(join(dir, 'empty'));
  });
  after(() => {
    built?.server.close();
    empty?.server.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves index.html at / with no-cache and a CSP that allows only this origin', async () => {
    const res = await fetch(`${built.url}/`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.equal(res.headers.get('cache-control'), 'no-cache');
    const csp = res.headers.get('content-security-policy') ?? '';
    const host = new URL(built.url).host;
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, new RegExp(`connect-src 'self' ws://${host} wss://${host}`));
    assert.doesNotMatch(csp, /unsafe|\*|https?:/);
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.match(await res.text(), /index-AbC123\.js/);
  });

  it('serves hashed assets as immutable, with their types, gzipped when asked', async () => {
    const js = await fetch(`${built.url}/assets/index-AbC123.js`, {
      headers: { 'accept-encoding': 'identity' },
    });
    assert.equal(js.status, 200);
    assert.equal(js.headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.equal(js.headers.get('cache-control'), 'public, max-age=31536000, immutable');
    assert.equal(js.headers.get('content-encoding'), null);
    assert.equal(await js.text(), script);
    const css = await fetch(`${built.url}/assets/index-AbC123.css`);
    assert.equal(css.headers.get('content-type'), 'text/css; charset=utf-8');
    // fetch would decompress on its own: read the raw bytes with node:http instead.
    const raw = await new Promise<{ encoding?: string; body: Buffer }>((resolve, reject) => {
      import('node:http').then(({ get }) =>
        get(`${built.url}/assets/index-AbC123.js`, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () =>
            resolve({ encoding: res.headers['content-encoding'], body: Buffer.concat(chunks) }),
          );
        }).on('error', reject),
      );
    });
    assert.equal(raw.encoding, 'gzip');
    assert.equal(gunzipSync(raw.body).toString(), script);
  });

  it('serves nothing else: unknown paths, traversal and other methods pass through', async () => {
    for (const path of [
      '/assets/missing.js',
      '/assets/..%2f..%2fpackage.json',
      '/%2e%2e/package.json',
      '/graphql',
    ]) {
      const res = await fetch(`${built.url}${path}`);
      assert.equal(res.status, 404, path);
    }
    const post = await fetch(`${built.url}/`, { method: 'POST', body: '{}' });
    assert.equal(post.status, 404);
  });

  it('answers / with a clear message when the console was not built', async () => {
    const res = await fetch(`${empty.url}/`);
    assert.equal(res.status, 503);
    assert.match(await res.text(), /console was not built.*npm install/s);
    assert.equal((await fetch(`${empty.url}/assets/index-AbC123.js`)).status, 404);
  });
});
