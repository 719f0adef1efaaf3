import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type HooklineProcess, runHookline } from '../helpers/process.js';

const root = (path: string) => fileURLToPath(new URL(`../../${path}`, import.meta.url));

// What `npm start` and the `hookline` bin run: the compiled code in dist/, which must find the
// migrations (drizzle/) and the console (console/dist/) from there.
describe('the hookline bin on the compiled code', () => {
  before(() => {
    // As `prepare` does at install: the code under test is the sources of this checkout.
    execFileSync(process.execPath, [
      root('node_modules/typescript/bin/tsc'),
      '-p',
      root('tsconfig.build.json'),
    ]);
  });

  it('prints the schema that schema.graphql holds', async () => {
    const run = runHookline(['print-schema'], {}, 60_000, 'bin');
    assert.equal(await run.exited, 0, run.stderr());
    assert.equal(run.stdout(), readFileSync(root('schema.graphql'), 'utf8'));
  });

  it('applies the migrations from drizzle/', async () => {
    const run = runHookline(['migrate'], { DATABASE_URL: 'memory://' }, 60_000, 'bin');
    assert.equal(await run.exited, 0, run.stderr());
    assert.match(run.stdout(), /"msg":"migrations applied"/);
  });

  describe('serve', () => {
    let server: HooklineProcess;
    let url: string;
    before(async () => {
      server = runHookline(
        ['serve'],
        { DATABASE_URL: 'memory://', PORT: '0', HOOKLINE_ADMIN_TOKEN: 'built-admin-token-0123456789' },
        60_000,
        'bin',
      );
      url = await server.listening;
    });
    after(async () => {
      await server.kill();
    });

    it('is ready with every migration applied', async () => {
      const res = await fetch(`${url}/readyz`);
      assert.deepEqual(await res.json(), { status: 'ready' });
    });

    it('answers GraphQL', async () => {
      const res = await fetch(`${url}/graphql`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer built-admin-token-0123456789' },
        body: JSON.stringify({ query: '{ me { role } }' }),
      });
      assert.deepEqual(await res.json(), { data: { me: { role: 'ADMIN' } } });
    });

    it(
      'serves the console from console/dist',
      { skip: !existsSync(root('console/dist/index.html')) && 'the console is not built' },
      async () => {
        const res = await fetch(`${url}/`);
        assert.equal(res.status, 200);
        assert.match(await res.text(), /<div id="root">|<script type="module"/);
      },
    );
  });
});
