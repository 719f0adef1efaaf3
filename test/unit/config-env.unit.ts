import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError, parseConfig } from '../../src/config.js';

/** The problems parseConfig reports for `env`, or a failure when it accepts it. */
function problemsOf(env: Record<string, string>): string[] {
  try {
    parseConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, String(error));
    assert.equal(error.message, error.problems.join('\n'));
    return error.problems;
  }
  assert.fail(`accepted ${JSON.stringify(env)}`);
}

describe('parseConfig: defaults', () => {
  it('gives every setting its default when nothing is set', () => {
    assert.deepEqual(parseConfig({}), {
      database: { kind: 'embedded', dataDir: './.hookline' },
      port: 4000,
      host: '127.0.0.1',
      adminToken: undefined,
      logLevel: 'info',
      publicUrl: undefined,
      corsOrigins: [],
      apiRateLimit: undefined,
      subscriberBuffer: 1000,
      subscriptionLimits: { perToken: 100, total: 10_000 },
      clusterId: 'hookline',
      allowPrivateTargets: undefined,
      envWebhook: null,
      dispatcher: { maxInFlight: 256, perWebhook: 4, leaseMarginMs: 15_000, pollMs: 2000 },
      shutdownGraceMs: 10_000,
      health: {
        disableAfterSeconds: 432_000,
        disableErrorRate: 1,
        failingAfterAttempts: 3,
        probeAfterSeconds: 60,
        probeMaxSeconds: 3600,
      },
      maxRequestBytes: 1_048_576,
      usersManageWebhooks: true,
      retentionDays: 30,
      trustedDocuments: { files: [], onlyRoles: [] },
      metricLabels: { operationNames: 100, webhooks: 100 },
      tracing: null,
    });
  });

  it('counts an empty variable as unset, as env files write them', () => {
    assert.deepEqual(parseConfig({ PORT: '', LOG_LEVEL: '', DATABASE_URL: '' }), parseConfig({}));
  });

  it('ignores variables it does not know', () => {
    assert.deepEqual(parseConfig({ HOOKLINE_NO_SUCH_SETTING: 'x', PATH: '/bin' }), parseConfig({}));
  });
});

describe('parseConfig: valid values', () => {
  it('picks the database from DATABASE_URL: a server, in-memory PGlite, or the embedded server in HOOKLINE_DATA_DIR', () => {
    assert.deepEqual(parseConfig({ DATABASE_URL: 'postgres://u:p@db:5432/hookline' }).database, {
      kind: 'postgres',
      url: 'postgres://u:p@db:5432/hookline',
    });
    assert.deepEqual(parseConfig({ DATABASE_URL: 'postgresql://db/h' }).database.kind, 'postgres');
    assert.deepEqual(parseConfig({ DATABASE_URL: 'memory://' }).database, { kind: 'pglite', dataDir: null });
    assert.deepEqual(parseConfig({ HOOKLINE_DATA_DIR: '/var/lib/hookline' }).database, {
      kind: 'embedded',
      dataDir: '/var/lib/hookline',
    });
  });

  it('reads numbers, lists and switches into their settings', () => {
    const config = parseConfig({
      PORT: '8080',
      HOST: '0.0.0.0',
      HOOKLINE_ADMIN_TOKEN: 'a-long-admin-token-0123',
      LOG_LEVEL: 'debug',
      HOOKLINE_PUBLIC_URL: 'https://hooks.example.com/base//',
      HOOKLINE_CORS_ORIGINS: 'https://console.example.com, http://localhost:5173',
      HOOKLINE_API_RATE_LIMIT: '50',
      HOOKLINE_DISPATCH_CONCURRENCY: '32',
      HOOKLINE_WEBHOOK_CONCURRENCY: '2',
      HOOKLINE_DISABLE_ERROR_RATE: '75',
      HOOKLINE_PROBE_AFTER_SECONDS: '600',
      HOOKLINE_PROBE_MAX_SECONDS: '60',
      HOOKLINE_USERS_MANAGE_WEBHOOKS: 'false',
      HOOKLINE_TRUSTED_DOCUMENTS: 'a.json, ,b.json',
      HOOKLINE_TRUSTED_ONLY_ROLES: 'user, ops',
      HOOKLINE_ALLOW_PRIVATE_TARGETS: '10.0.0.0/8,hooks.internal',
    });
    assert.equal(config.port, 8080);
    assert.equal(config.host, '0.0.0.0');
    assert.equal(config.adminToken, 'a-long-admin-token-0123');
    assert.equal(config.logLevel, 'debug');
    assert.equal(config.publicUrl, 'https://hooks.example.com/base', 'trailing slashes dropped');
    assert.deepEqual(config.corsOrigins, ['https://console.example.com', 'http://localhost:5173']);
    assert.equal(config.apiRateLimit, 50);
    assert.equal(config.dispatcher.maxInFlight, 32);
    assert.equal(config.dispatcher.perWebhook, 2);
    assert.equal(config.health.disableErrorRate, 0.75, 'a percentage');
    assert.equal(config.health.probeMaxSeconds, 600, 'never below the first probe wait');
    assert.equal(config.usersManageWebhooks, false);
    assert.deepEqual(config.trustedDocuments, { files: ['a.json', 'b.json'], onlyRoles: ['USER', 'OPS'] });
    assert.equal(config.allowPrivateTargets, '10.0.0.0/8,hooks.internal');
  });

  it('sets up the env webhook from WEBHOOK_PROVIDER and WEBHOOK_URL, MUTATIONS by default', () => {
    assert.deepEqual(
      parseConfig({ WEBHOOK_PROVIDER: 'slack', WEBHOOK_URL: 'https://hooks.slack.com/x' }).envWebhook,
      {
        provider: 'slack',
        url: 'https://hooks.slack.com/x',
        verbosity: 'MUTATIONS',
      },
    );
  });

  it('exports traces once an OTLP endpoint is set, the traces-specific variables winning', () => {
    assert.equal(parseConfig({ OTEL_SERVICE_NAME: 'x' }).tracing, null, 'no endpoint, no tracing');
    assert.deepEqual(
      parseConfig({
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
        OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%20b,tenant=t1',
        OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'tenant=t2',
        OTEL_EXPORTER_OTLP_TIMEOUT: '5000',
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attributes,deployment.environment=prod',
        OTEL_TRACES_SAMPLER: 'traceidratio',
        OTEL_TRACES_SAMPLER_ARG: '0.25',
        OTEL_BSP_SCHEDULE_DELAY: '1000',
      }).tracing,
      {
        url: 'http://collector:4318/v1/traces',
        protocol: 'http/json',
        headers: { 'api-key': 'a b', tenant: 't2' },
        timeoutMs: 5000,
        compression: undefined,
        serviceName: 'from-attributes',
        resourceAttributes: { 'service.name': 'from-attributes', 'deployment.environment': 'prod' },
        sampler: { name: 'traceidratio', arg: 0.25 },
        batch: { scheduledDelayMillis: 1000 },
      },
    );
    const specific = parseConfig({
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://traces:4318/custom',
    }).tracing;
    assert.equal(specific?.url, 'http://traces:4318/custom', 'a specific endpoint is used as it is');
    assert.equal(specific?.protocol, 'http/protobuf');
    assert.equal(specific?.serviceName, 'hookline');
    assert.deepEqual(specific?.sampler, { name: 'parentbased_always_on', arg: undefined });
  });

  it('turns tracing off with OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none', () => {
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    assert.equal(parseConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }).tracing, null);
    assert.equal(parseConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).tracing, null);
  });
});

describe('parseConfig: invalid values', () => {
  const whole = (name: string, min: number, max: number) =>
    `invalid configuration: ${name} must be a whole number from ${min} to ${max}`;
  const cases: [Record<string, string>, string][] = [
    [{ PORT: 'abc' }, `${whole('PORT', 0, 65535)} (got "abc")`],
    [{ PORT: '65536' }, `${whole('PORT', 0, 65535)} (got "65536")`],
    [{ PORT: '-1' }, `${whole('PORT', 0, 65535)} (got "-1")`],
    [{ PORT: '80.5' }, `${whole('PORT', 0, 65535)} (got "80.5")`],
    [
      { HOST: 'not a host' },
      'invalid configuration: HOST must be a host name or an IP address (got "not a host")',
    ],
    [
      { LOG_LEVEL: 'loud' },
      'invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "loud")',
    ],
    [{ HOOKLINE_DISPATCH_CONCURRENCY: '0' }, `${whole('HOOKLINE_DISPATCH_CONCURRENCY', 1, 10000)} (got "0")`],
    [{ HOOKLINE_POLL_MS: '5' }, `${whole('HOOKLINE_POLL_MS', 10, 600000)} (got "5")`],
    [{ HOOKLINE_DISABLE_ERROR_RATE: '101' }, `${whole('HOOKLINE_DISABLE_ERROR_RATE', 1, 100)} (got "101")`],
    [
      { HOOKLINE_MAX_REQUEST_BYTES: '1000' },
      `${whole('HOOKLINE_MAX_REQUEST_BYTES', 1024, 67108864)} (got "1000")`,
    ],
    [{ HOOKLINE_RETENTION_DAYS: '0' }, `${whole('HOOKLINE_RETENTION_DAYS', 1, 36500)} (got "0")`],
    [
      { WEBHOOK_PROVIDER: 'email', WEBHOOK_URL: 'https://x.example.com' },
      'invalid configuration: WEBHOOK_PROVIDER must be one of slack, teams, generic (got "email")',
    ],
    [
      { WEBHOOK_VERBOSITY: 'SOME' },
      'invalid configuration: WEBHOOK_VERBOSITY must be one of MUTATIONS, QUERIES, ALL (got "SOME")',
    ],
    [
      { HOOKLINE_ALLOW_PRIVATE_TARGETS: '10.0.0.0/99' },
      'invalid configuration: HOOKLINE_ALLOW_PRIVATE_TARGETS must be true, or a comma-separated list of CIDRs and host names (got "10.0.0.0/99")',
    ],
    [
      { HOOKLINE_CLUSTER_ID: 'a b' },
      'invalid configuration: HOOKLINE_CLUSTER_ID must be 1-128 letters, digits, "_", ".", ":" or "-" (got "a b")',
    ],
    [
      { HOOKLINE_PUBLIC_URL: 'hooks.example.com' },
      'invalid configuration: HOOKLINE_PUBLIC_URL must be an absolute http or https URL (got "hooks.example.com")',
    ],
    [
      { HOOKLINE_USERS_MANAGE_WEBHOOKS: 'yes' },
      'invalid configuration: HOOKLINE_USERS_MANAGE_WEBHOOKS must be true or false (got "yes")',
    ],
    [
      { HOOKLINE_TRUSTED_ONLY_ROLES: 'USER,BOSS' },
      'invalid configuration: HOOKLINE_TRUSTED_ONLY_ROLES must be a comma-separated list of ADMIN, OPS, USER (got "USER,BOSS")',
    ],
    [
      { HOOKLINE_CORS_ORIGINS: 'https://console.example.com/' },
      'invalid configuration: HOOKLINE_CORS_ORIGINS must be *, or a comma-separated list of origins written as a browser sends them: scheme://host[:port] in lower case, without a default port, path or trailing slash (https://console.example.com) (got "https://console.example.com/")',
    ],
    [
      { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
      'invalid configuration: OTEL_EXPORTER_OTLP_PROTOCOL must be http/protobuf or http/json (Hookline exports OTLP over HTTP, not grpc) (got "grpc")',
    ],
    [
      { OTEL_TRACES_SAMPLER_ARG: '1.5' },
      'invalid configuration: OTEL_TRACES_SAMPLER_ARG must be a number from 0 to 1 (got "1.5")',
    ],
    [
      { OTEL_RESOURCE_ATTRIBUTES: 'no-equals-sign' },
      'invalid configuration: OTEL_RESOURCE_ATTRIBUTES must be a comma-separated list of key=value pairs (got "no-equals-sign")',
    ],
    [
      { OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' },
      'invalid configuration: OTEL_EXPORTER_OTLP_COMPRESSION must be gzip or none (got "zstd")',
    ],
  ];
  for (const [env, problem] of cases) {
    const [name] = Object.keys(env);
    it(`refuses ${name}=${JSON.stringify(Object.values(env)[0])} with one line naming it`, () => {
      assert.deepEqual(problemsOf(env), [problem]);
    });
  }

  it('never echoes the value of a variable that may hold a credential', () => {
    const secrets: [Record<string, string>, string][] = [
      [
        { DATABASE_URL: 'mysql://root:hunter2@db/x' },
        'invalid configuration: DATABASE_URL must be a postgres:// or postgresql:// URL, or memory:// for an in-memory database',
      ],
      [
        { HOOKLINE_ADMIN_TOKEN: 'hunter2' },
        'invalid configuration: HOOKLINE_ADMIN_TOKEN must be at least 16 characters long',
      ],
      [
        { HOOKLINE_ADMIN_TOKEN: 'hunter2 hunter2 hunter2' },
        'invalid configuration: HOOKLINE_ADMIN_TOKEN must be printable ASCII without spaces',
      ],
      [
        { WEBHOOK_PROVIDER: 'slack', WEBHOOK_URL: 'hooks.slack.com/hunter2' },
        'invalid configuration: WEBHOOK_URL must be an absolute http or https URL',
      ],
      [
        { OTEL_EXPORTER_OTLP_HEADERS: 'api-key=%E0%A4%A' },
        'invalid configuration: OTEL_EXPORTER_OTLP_HEADERS must be a comma-separated list of key=value pairs',
      ],
    ];
    for (const [env, problem] of secrets) assert.deepEqual(problemsOf(env), [problem]);
  });

  it('wants WEBHOOK_PROVIDER and WEBHOOK_URL together, naming the missing one', () => {
    assert.deepEqual(problemsOf({ WEBHOOK_URL: 'https://hooks.slack.com/x' }), [
      'invalid configuration: WEBHOOK_PROVIDER is required when WEBHOOK_URL is set',
    ]);
    assert.deepEqual(problemsOf({ WEBHOOK_PROVIDER: 'teams' }), [
      'invalid configuration: WEBHOOK_URL is required when WEBHOOK_PROVIDER is set',
    ]);
  });

  it('reports every bad variable at once, a line each', () => {
    assert.deepEqual(problemsOf({ PORT: 'x', LOG_LEVEL: 'y', HOOKLINE_ADMIN_TOKEN: 'short' }), [
      `${whole('PORT', 0, 65535)} (got "x")`,
      'invalid configuration: HOOKLINE_ADMIN_TOKEN must be at least 16 characters long',
      'invalid configuration: LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent (got "y")',
    ]);
  });
});
