import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { type HooklineProcess, runHookline, tempDir } from '../helpers/process.js';
import { gqlRequest } from '../helpers/server.js';

// How `hookline serve` shows the ADMIN token it generates at first start.
const PRINTED_TOKEN = /^ {2}(hk_[A-Za-z0-9_-]{43})$/m;
const REVOKE = 'mutation($id: ID!) { revokeApiToken(id: $id) }';
const TOKENS = '{ apiTokens { id name bootstrap revokedAt } }';

for (const backend of backends()) {
  describe(`the operator's generated token (${backend.name})`, () => {
    let dir: string;
    let database: { url: string; drop(): Promise<void> } | undefined;
    let serve: HooklineProcess;
    let url: string;
    let operator: string;
    const as = (token: string) => (query: string, variables?: Record<string, unknown>) =>
      gqlRequest<any>(url, query, variables, token);

    before(async () => {
      dir = await tempDir('hookline-operator-');
      if (backend.name === 'postgres') database = await backend.create();
      // No HOOKLINE_ADMIN_TOKEN: the server generates the operator's token and prints it once.
      serve = runHookline(
        ['serve'],
        { ...(database ? { DATABASE_URL: database.url } : { HOOKLINE_DATA_DIR: dir }), PORT: '0' },
        180_000,
      );
      url = await serve.listening;
      operator = PRINTED_TOKEN.exec(serve.stdout())?.[1] as string;
      assert.ok(operator, `no token printed:\n${serve.stdout()}`);
    });
    after(async () => {
      await serve?.kill('SIGTERM');
      await database?.drop();
      await rm(dir, { recursive: true, force: true });
    });

    const operatorTokenId = async () => {
      const list = await as(operator)(TOKENS);
      return list.data.apiTokens.find((t: any) => t.bootstrap).id as string;
    };

    it('may not be revoked by another ADMIN of the default tenant: FORBIDDEN, and it keeps working', async () => {
      const made = await as(operator)('mutation { createApiToken(name: "second-admin", role: ADMIN) }');
      assert.equal(made.errors, undefined, JSON.stringify(made.errors));
      const second = made.data.createApiToken as string;
      const id = await operatorTokenId();

      const res = await as(second)(REVOKE, { id });
      assert.equal(res.errors?.[0]?.extensions?.code, 'FORBIDDEN', JSON.stringify(res.errors));
      assert.equal(res.errors?.[0]?.extensions?.field, 'id');
      assert.equal(
        res.errors?.[0]?.message,
        'the operator token can be revoked only by itself or by `hookline admin-token`',
      );

      const after = await as(operator)(TOKENS);
      assert.equal(after.errors, undefined, 'the operator token still works');
      assert.equal(after.data.apiTokens.find((t: any) => t.id === id).revokedAt, null);

      // The rule is about the operator's token only: the second ADMIN still manages the others.
      const ops = (await as(second)('mutation { createApiToken(name: "ops-bot", role: OPS) }')).data
        .createApiToken as string;
      const opsId = (await as(second)(TOKENS)).data.apiTokens.find((t: any) => t.name === 'ops-bot').id;
      assert.equal((await as(second)(REVOKE, { id: opsId })).data?.revokeApiToken, true);
      assert.equal((await as(ops)('{ me { role } }')).status, 401);
    });

    it('may be revoked by itself, after which it is refused', async () => {
      const id = await operatorTokenId();
      const res = await as(operator)(REVOKE, { id });
      assert.equal(res.errors, undefined, JSON.stringify(res.errors));
      assert.equal(res.data.revokeApiToken, true);
      assert.equal((await as(operator)('{ me { role } }')).status, 401);
    });
  });
}
