import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { subscriptionsOpen, wsClient } from '../helpers/live.js';
import { ADMIN_TOKEN, startServer, type TestServer } from '../helpers/server.js';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const WHOAMI = 'query Whoami { me { role } }';
const LOGS = 'subscription Logs { deliveryLogs { attemptNumber } }';
const CONSOLE_MANIFEST = new URL('../../console/dist/trusted-documents.json', import.meta.url);

/** A GraphQL POST of any body, as a client that sends documents by id would. */
async function post(url: string, body: Record<string, unknown>, token: string) {
  const res = await fetch(`${url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      accept: 'application/graphql-response+json, application/json',
      authorization: `Bearer ${token}`,
    },
    body: JSON.stringify(body),
  });
  const json = (await res.json()) as {
    data?: any;
    errors?: { message: string; extensions?: { code?: string } }[];
  };
  return {
    status: res.status,
    data: json.data,
    codes: json.errors?.map((e) => e.extensions?.code),
    errors: json.errors,
  };
}

for (const backend of backends()) {
  describe(`trusted documents (${backend.name})`, () => {
    let dir: string;
    let server: TestServer;
    let user: string;
    before(async () => {
      dir = await mkdtemp(join(tmpdir(), 'hookline-trusted-'));
      const manifest = join(dir, 'automation.json');
      await writeFile(
        manifest,
        JSON.stringify({ [sha256(WHOAMI)]: WHOAMI, [`sha256:${sha256(LOGS)}`]: LOGS }),
      );
      server = await startServer(backend, {
        HOOKLINE_TRUSTED_DOCUMENTS: manifest,
        HOOKLINE_TRUSTED_ONLY_ROLES: 'USER',
      });
      user = (await server.gql('mutation { createApiToken(name: "trusted-user", role: USER) }')).data
        .createApiToken;
    });
    after(async () => {
      await server?.stop();
      await rm(dir, { recursive: true, force: true });
    });

    it('runs a registered document sent by its hash, as documentId or as Apollo persistedQuery', async () => {
      for (const body of [
        { documentId: `sha256:${sha256(WHOAMI)}` },
        { documentId: sha256(WHOAMI) },
        { extensions: { persistedQuery: { version: 1, sha256Hash: sha256(WHOAMI) } } },
      ]) {
        const res = await post(server.url, body, ADMIN_TOKEN);
        assert.deepEqual([res.status, res.data, res.errors], [200, { me: { role: 'ADMIN' } }, undefined]);
      }
      const get = await fetch(`${server.url}/graphql?documentId=sha256:${sha256(WHOAMI)}`, {
        headers: { accept: 'application/json', authorization: `Bearer ${ADMIN_TOKEN}` },
      });
      assert.deepEqual(await get.json(), { data: { me: { role: 'ADMIN' } } });
    });

    it('answers PERSISTED_QUERY_NOT_FOUND for an id nobody registered', async () => {
      const res = await post(
        server.url,
        { documentId: `sha256:${sha256('query Nope { me { role } }')}` },
        ADMIN_TOKEN,
      );
      assert.equal(res.status, 400);
      assert.deepEqual(res.codes, ['PERSISTED_QUERY_NOT_FOUND']);
      assert.match(res.errors?.[0]?.message ?? '', /no trusted document has the id/);
    });

    it('refuses a text and an id together', async () => {
      const res = await post(server.url, { query: WHOAMI, documentId: sha256(WHOAMI) }, ADMIN_TOKEN);
      assert.deepEqual([res.status, res.codes], [400, ['BAD_REQUEST']]);
    });

    it('lets a role of HOOKLINE_TRUSTED_ONLY_ROLES run trusted documents only; other roles run any', async () => {
      const refused = await post(server.url, { query: WHOAMI }, user);
      assert.deepEqual(
        [refused.status, refused.data, refused.codes],
        [400, undefined, ['PERSISTED_QUERY_ONLY']],
      );
      assert.match(refused.errors?.[0]?.message ?? '', /a USER token may only run trusted documents/);
      const trusted = await post(server.url, { documentId: sha256(WHOAMI) }, user);
      assert.deepEqual(trusted.data, { me: { role: 'USER' } });
      const admin = await post(server.url, { query: '{ me { role } }' }, ADMIN_TOKEN);
      assert.deepEqual(admin.data, { me: { role: 'ADMIN' } });
    });

    it('holds the same rules over graphql-ws', async () => {
      const client = wsClient(server.url, user);
      try {
        const refused = await new Promise<unknown[]>((resolve) => {
          client.subscribe(
            { query: LOGS },
            { next: () => {}, error: (e) => resolve(e as unknown[]), complete: () => resolve([]) },
          );
        });
        assert.equal(
          (refused as { extensions?: { code?: string } }[])[0]?.extensions?.code,
          'PERSISTED_QUERY_ONLY',
        );
        const errors: unknown[] = [];
        const stop = client.subscribe(
          { query: '', extensions: { persistedQuery: { version: 1, sha256Hash: sha256(LOGS) } } },
          { next: () => {}, error: (e) => void errors.push(e), complete: () => {} },
        );
        await subscriptionsOpen(server.url, 1);
        assert.deepEqual(errors, []);
        stop();
      } finally {
        await client.dispose();
      }
    });

    it(
      "trusts the console's operations, built into console/dist/trusted-documents.json",
      { skip: !existsSync(CONSOLE_MANIFEST) && 'the console is not built' },
      async () => {
        const manifest = JSON.parse(readFileSync(CONSOLE_MANIFEST, 'utf8')) as Record<string, string>;
        const ids = Object.keys(manifest);
        assert.ok(ids.length >= 10, `${ids.length} documents`);
        for (const id of ids)
          assert.equal(id, sha256(manifest[id] as string), 'each id is its document hash');
        const [id] = ids.filter(
          (i) => /^query \w+ {/.test(manifest[i] as string) && !manifest[i]?.includes('$'),
        );
        assert.ok(id, 'a console query without variables');
        const res = await post(server.url, { documentId: id }, user);
        assert.equal(res.codes, undefined, JSON.stringify(res.errors));
      },
    );
  });
}

describe('a manifest of trusted documents', () => {
  it('stops the start when an id shaped as a hash is not its document hash', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'hookline-trusted-'));
    try {
      const file = join(dir, 'bad.json');
      await writeFile(
        file,
        JSON.stringify({ [sha256('query A { me { role } }')]: 'query B { me { role } }' }),
      );
      const [backend] = backends();
      await assert.rejects(
        startServer(backend!, { HOOKLINE_TRUSTED_DOCUMENTS: file }),
        /is not the SHA-256 of its document/,
      );
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
