import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { deliveryWhen, publish } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { type Program, repoRoot, runProgram, runTypeScript } from '../helpers/example.js';
import { makeWebhookInput } from '../helpers/factories.js';
import { startServer, type TestServer } from '../helpers/server.js';

const PYTHON_RECEIVER = 'examples/receivers/python/receiver.py';
const VENV_PYTHON = join(repoRoot, 'examples/receivers/python/.venv/bin/python');

/**
 * A Python that has the standardwebhooks package: HOOKLINE_EXAMPLES_PYTHON, the example's
 * virtual environment (.ci/run makes it where PyPI can be reached) or the system's python3.
 */
function pythonWithStandardWebhooks(): string | null {
  const candidates = [process.env.HOOKLINE_EXAMPLES_PYTHON, VENV_PYTHON, 'python3'].filter((c): c is string =>
    Boolean(c),
  );
  return (
    candidates.find(
      (python) => spawnSync(python, ['-c', 'import standardwebhooks'], { timeout: 10_000 }).status === 0,
    ) ?? null
  );
}

const python = pythonWithStandardWebhooks();
const NO_PYTHON_LIBRARY =
  'the Python package standardwebhooks is not installed: PyPI could not be reached to install it ' +
  '(.ci/run puts it in examples/receivers/python/.venv where it can), and Debian has no package of it';

const receivers: { name: string; start: (env: Record<string, string>) => Program; skip: string | false }[] = [
  {
    name: 'Node',
    start: (env) => runTypeScript('examples/receivers/node/receiver.ts', env),
    skip: false,
  },
  {
    name: 'Python',
    start: (env) => runProgram(python ?? 'python3', [PYTHON_RECEIVER], env),
    skip: python ? false : NO_PYTHON_LIBRARY,
  },
];

const secrets = {
  // What rotateWebhookSecret makes, and what the Standard Webhooks libraries expect.
  'a whsec_ secret': () => `whsec_${randomBytes(24).toString('base64')}`,
  // Any other string is signed with its UTF-8 bytes; the é makes Latin-1 and UTF-8 differ.
  'a plain secret': () => `plain-sécret-${randomBytes(6).toString('hex')}`,
};

for (const backend of backends()) {
  describe(`examples/receivers verify Hookline's signatures with standardwebhooks (${backend.name})`, () => {
    let server: TestServer;
    before(async () => {
      server = await startServer(backend);
    });
    after(() => server.stop());

    for (const receiver of receivers) {
      for (const [kind, makeSecret] of Object.entries(secrets)) {
        it(
          `${receiver.name}, ${kind}: accepts what Hookline signed, refuses a tampered body`,
          {
            skip: receiver.skip,
          },
          async () => {
            const secret = makeSecret();
            const program = receiver.start({ HOOKLINE_SECRET: secret, PORT: '0' });
            try {
              const listening = await program.line((l) => l.startsWith('listening on '));
              const url = listening.slice('listening on '.length);

              // Each test's webhook takes only its own cluster's events.
              const cluster = `kit-${randomBytes(4).toString('hex')}`;
              const created = await server.gql(
                `mutation($input: CreateWebhookInput!) { createWebhook(input: $input) { id } }`,
                {
                  input: makeWebhookInput({
                    eventFilters: [{ eventTypes: ['order.paid'], clusters: [cluster] }],
                    config: { endpoint: `${url}/hookline`, secretKey: secret },
                  }),
                },
              );
              assert.equal(created.errors, undefined, JSON.stringify(created.errors));
              const event = await publish(server, { eventType: 'order.paid', cluster, data: { order: 7 } });
              assert.deepEqual(
                event.deliveries.map((d) => d.webhook.id),
                [created.data.createWebhook.id],
              );
              const deliveryId = event.deliveries[0]?.id as string;
              const delivery = await deliveryWhen(
                server,
                deliveryId,
                (d) => d.status !== 'PENDING' && d.status !== 'IN_FLIGHT',
              );
              assert.equal(
                delivery.status,
                'SUCCEEDED',
                `${JSON.stringify(delivery.attempts)}\n${program.output()}`,
              );
              assert.equal(delivery.attempts[0].responseStatus, 204);
              const verified = JSON.parse(await program.line((l) => l.includes(deliveryId)));
              assert.deepEqual(verified, { verified: true, id: deliveryId, eventType: 'order.paid' });

              // The request as Hookline sent it (its history keeps the signature headers), sent
              // again as it was and then with one byte of the body changed.
              const { requestHeaders, requestBody } = delivery.attempts[0] as {
                requestHeaders: Record<string, string>;
                requestBody: string;
              };
              const send = (body: string) =>
                fetch(`${url}/hookline`, {
                  method: 'POST',
                  headers: requestHeaders,
                  body,
                  signal: AbortSignal.timeout(10_000),
                });
              assert.equal((await send(requestBody)).status, 204, program.output());
              const tampered = requestBody.replace('"order":7', '"order":8');
              assert.notEqual(tampered, requestBody);
              assert.equal((await send(tampered)).status, 401, program.output());
              const refused = JSON.parse(
                await program.line((l) => l.includes('"verified": false') || l.includes('"verified":false')),
              );
              assert.equal(refused.id, deliveryId);
              assert.match(refused.error, /signature/i);
            } finally {
              await program.stop();
            }
          },
        );
      }
    }

    it(
      'the Python receiver is valid Python (checked even where its library cannot be installed)',
      {
        skip: spawnSync('python3', ['--version']).status === 0 ? false : 'no python3 on this machine',
      },
      () => {
        const parsed = spawnSync(
          'python3',
          ['-c', 'import ast, sys; ast.parse(open(sys.argv[1]).read(), sys.argv[1])', PYTHON_RECEIVER],
          { cwd: repoRoot, encoding: 'utf8', timeout: 10_000 },
        );
        assert.equal(parsed.status, 0, parsed.stderr);
      },
    );
  });
}
