import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { backends } from '../helpers/db.js';
import { ADMIN_TOKEN, startServer, type TestServer } from '../helpers/server.js';

describe('the access log', () => {
  const [backend] = backends();
  const lines: Record<string, unknown>[] = [];
  let server: TestServer;
  before(async () => {
    server = await startServer(
      backend!,
      {},
      {
        log: { level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } },
      },
    );
  });
  after(async () => {
    await server?.stop();
  });

  const requestLines = () => lines.filter((l) => l.msg === 'request');
  /** The line of the request with this id, once written (after the response is done). */
  const lineOf = async (requestId: string) => {
    for (let i = 0; i < 100; i++) {
      const line = requestLines().find((l) => l.requestId === requestId);
      if (line) return line;
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.fail(`no access line for ${requestId}`);
  };

  it('writes one line per GraphQL request at info, with the id, method, path, operation, status and duration', async () => {
    const res = await fetch(`${server.url}/graphql?x=1`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        authorization: `Bearer ${ADMIN_TOKEN}`,
        'x-request-id': 'req-access-1',
      },
      body: JSON.stringify({ query: 'query Whoami { me { role } }' }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-request-id'), 'req-access-1');
    const line = await lineOf('req-access-1');
    assert.equal(line.level, 30, 'info');
    assert.equal(line.component, 'http');
    assert.equal(line.method, 'POST');
    assert.equal(line.path, '/graphql');
    assert.equal(line.operationName, 'Whoami');
    assert.equal(line.status, 200);
    assert.equal(typeof line.durationMs, 'number');
    assert.equal(requestLines().filter((l) => l.requestId === 'req-access-1').length, 1);
  });

  it('logs refused requests too, with the id it gave them', async () => {
    const res = await fetch(`${server.url}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: 'query Whoami { me { role } }' }),
    });
    assert.equal(res.status, 401);
    const id = res.headers.get('x-request-id');
    assert.match(id ?? '', /^[0-9a-f-]{36}$/);
    const line = await lineOf(id as string);
    assert.equal(line.status, 401);
    assert.equal(line.operationName, undefined, 'never parsed: no operation');
  });

  it('keeps health checks and scrapes out of the info log', async () => {
    const res = await fetch(`${server.url}/healthz`, { headers: { 'x-request-id': 'req-health-1' } });
    assert.equal(res.status, 200);
    await lineOf(
      (await fetch(`${server.url}/nope`, { headers: { 'x-request-id': 'req-after-1' } })).headers.get(
        'x-request-id',
      ) as string,
    );
    assert.equal(
      requestLines().find((l) => l.requestId === 'req-health-1'),
      undefined,
    );
  });
});
