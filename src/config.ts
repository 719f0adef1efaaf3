import { isIP } from 'node:net';
import { z } from 'zod';
import { defaultHealthPolicy, type HealthPolicy } from './core/health.js';
import { validateAllowList } from './core/targets.js';
import { type Role, roles } from './core/principal.js';

/**
 * `embedded`: the default, a PostgreSQL server that Hookline runs itself in its data directory
 * (db/embedded.ts); `postgres`: a server of DATABASE_URL; `pglite`: in-memory PGlite
 * (`memory://`, for tests), or a PGlite data directory (only read to import it).
 */
export type DatabaseTarget =
  | { kind: 'postgres'; url: string }
  | { kind: 'embedded'; dataDir: string }
  | { kind: 'pglite'; dataDir: string | null };

export interface Config {
  database: DatabaseTarget;
  port: number;
  host: string;
  /** The bootstrap ADMIN token; when absent, `serve` generates one and keeps only its hash. */
  adminToken: string | undefined;
  logLevel: LogLevel;
  /** Base of `href` links; when unset, the address the server actually listens on. */
  publicUrl: string | undefined;
  /** Browser origins whose pages may read the API's answers (none by default). */
  corsOrigins: CorsOrigins;
  /** Requests a second each token may make to the API, per process; undefined: no limit. */
  apiRateLimit: number | undefined;
  /** Kpow's environment set-up: a global webhook named `env` for the API's audit events. */
  envWebhook: {
    provider: 'slack' | 'teams' | 'generic';
    url: string;
    verbosity: 'MUTATIONS' | 'QUERIES' | 'ALL';
  } | null;
  /** Private addresses that endpoints may use anyway (see core/targets.ts). */
  allowPrivateTargets: string | undefined;
  /** `cluster_id` of the Kpow audit records this installation publishes. */
  clusterId: string;
  /** Messages a subscription may have waiting before it is dropped as too slow. */
  subscriberBuffer: number;
  /** Live subscriptions open at once in this process, per token and in all. */
  subscriptionLimits: { perToken: number; total: number };
  dispatcher: {
    /** Requests in flight at once in this process. */
    maxInFlight: number;
    /** Requests in flight at once to one webhook. */
    perWebhook: number;
    leaseMarginMs: number;
    pollMs: number;
  };
  /** How long SIGTERM lets requests in flight finish before giving the rest back. */
  shutdownGraceMs: number;
  /** The endpoint-health rule (auto-disable and `delivery.failing`). */
  health: HealthPolicy;
  /** Bytes a request body to a webhook may have; past it the request is not sent (or previewed). */
  maxRequestBytes: number;
  /** Whether a USER manages its own webhooks (true) or only ADMIN and OPS manage any (false). */
  usersManageWebhooks: boolean;
  /** Whole days finished deliveries, attempts and events are kept (then their day is dropped). */
  retentionDays: number;
  /** Distinct values /metrics gives a label of their own (metrics.ts: boundedLabel). */
  metricLabels: LabelLimits;
  /** Manifests of trusted documents, and the roles that may run nothing else (graphql/trusted-documents.ts). */
  trustedDocuments: { files: string[]; onlyRoles: Role[] };
  /** OpenTelemetry by the standard OTEL_* variables; null (off) unless an OTLP endpoint is set. */
  tracing: TracingConfig | null;
}

/** The limits of /metrics labels' cardinality (metrics.ts keeps to them). */
export interface LabelLimits {
  /** Distinct operation names given a series of their own; later ones are `(other)`. */
  operationNames: number;
  /** Distinct webhooks given a series of their own; later ones are `(other)`. */
  webhooks: number;
}

export const defaultLabelLimits: LabelLimits = { operationNames: 100, webhooks: 100 };

/** HOOKLINE_MAX_REQUEST_BYTES when it is not set. */
export const DEFAULT_MAX_REQUEST_BYTES = 1024 * 1024;

/**
 * The browser origins whose pages may call the API: a list of exact origins, or `*` for any
 * page. None by default: a foreign page's request still reaches the server (CORS does not stop
 * that; the token does), but its script can read nothing of the answer.
 */
export type CorsOrigins = readonly string[] | '*';

/** HOOKLINE_CORS_ORIGINS as origins, or null when an item is not one exact origin. */
export function parseCorsOrigins(value: string): CorsOrigins | null {
  if (value.trim() === '*') return '*';
  const origins = value.split(',').map((item) => item.trim());
  // Compared byte for byte with the Origin header a browser sends, so only its own spelling
  // can ever match: lower case, no default port, no path, no trailing slash.
  const exact = (item: string) => {
    try {
      const url = new URL(item);
      return (url.protocol === 'http:' || url.protocol === 'https:') && url.origin === item;
    } catch {
      return false;
    }
  };
  return origins.every(exact) ? origins : null;
}

/** OpenTelemetry as the standard OTEL_* variables set it (tracing/ starts it). */
export interface TracingConfig {
  /** Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  headers: Record<string, string>;
  timeoutMs: number | undefined;
  compression: 'gzip' | 'none' | undefined;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  sampler: { name: Sampler; arg: number | undefined };
  /** OTEL_BSP_*: the batch span processor's delay, queue and batch sizes, and export timeout. */
  batch: {
    scheduledDelayMillis?: number;
    maxQueueSize?: number;
    maxExportBatchSize?: number;
    exportTimeoutMillis?: number;
  };
}

export const samplers = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type Sampler = (typeof samplers)[number];

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof logLevels)[number];

// Values of these variables may hold credentials, so an error never echoes them.
const secretVariables = new Set([
  'DATABASE_URL',
  'HOOKLINE_ADMIN_TOKEN',
  'WEBHOOK_URL',
  'OTEL_EXPORTER_OTLP_HEADERS',
  'OTEL_EXPORTER_OTLP_TRACES_HEADERS',
]);

const count = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { message: `must be a whole number from ${min} to ${max}` })
    .transform(Number)
    .refine((n) => n >= min && n <= max, { message: `must be a whole number from ${min} to ${max}` });

const httpUrl = z
  .string()
  .regex(/^https?:\/\/[^/\s]+(\/\S*)?$/, { message: 'must be an absolute http or https URL' });

/** `key=value,key=value` with percent-encoded values: OTEL_EXPORTER_OTLP_HEADERS, OTEL_RESOURCE_ATTRIBUTES. */
const keyValues = z.string().transform((v, ctx) => {
  const pairs: Record<string, string> = {};
  for (const item of v.split(',')) {
    if (!item.trim()) continue;
    const at = item.indexOf('=');
    const key = item.slice(0, at).trim();
    try {
      if (at < 1 || !key) throw new Error();
      pairs[key] = decodeURIComponent(item.slice(at + 1).trim());
    } catch {
      ctx.addIssue({ code: 'custom', message: 'must be a comma-separated list of key=value pairs' });
      return z.NEVER;
    }
  }
  return pairs;
});
const otlpProtocol = z.enum(['http/protobuf', 'http/json'], {
  message: 'must be http/protobuf or http/json (Hookline exports OTLP over HTTP, not grpc)',
});
const compression = z.enum(['gzip', 'none'], { message: 'must be gzip or none' });

const environment = z.object({
  DATABASE_URL: z
    .string()
    .refine((v) => v === 'memory://' || /^postgres(ql)?:\/\/.+/.test(v), {
      message: 'must be a postgres:// or postgresql:// URL, or memory:// for an in-memory database',
    })
    .optional(),
  HOOKLINE_DATA_DIR: z.string().min(1).default('./.hookline'),
  PORT: count(0, 65535).default(4000),
  HOST: z
    .string()
    .refine(
      (v) =>
        isIP(v) !== 0 ||
        /^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*$/.test(
          v,
        ),
      {
        message: 'must be a host name or an IP address',
      },
    )
    .default('127.0.0.1'),
  HOOKLINE_ADMIN_TOKEN: z
    .string()
    .min(16, { message: 'must be at least 16 characters long' })
    .regex(/^[\x21-\x7e]+$/, { message: 'must be printable ASCII without spaces' })
    .optional(),
  LOG_LEVEL: z.enum(logLevels, { message: `must be one of ${logLevels.join(', ')}` }).default('info'),
  HOOKLINE_DISPATCH_CONCURRENCY: count(1, 10_000).default(256),
  HOOKLINE_WEBHOOK_CONCURRENCY: count(1, 1000).default(4),
  HOOKLINE_LEASE_MARGIN_MS: count(100, 3_600_000).default(15_000),
  HOOKLINE_POLL_MS: count(10, 600_000).default(2000),
  HOOKLINE_SHUTDOWN_GRACE_MS: count(0, 3_600_000).default(10_000),
  HOOKLINE_DISABLE_AFTER_SECONDS: count(0, 365 * 24 * 3600).default(defaultHealthPolicy.disableAfterSeconds),
  HOOKLINE_DISABLE_ERROR_RATE: count(1, 100).default(defaultHealthPolicy.disableErrorRate * 100),
  HOOKLINE_FAILING_AFTER_ATTEMPTS: count(1, 100).default(defaultHealthPolicy.failingAfterAttempts),
  HOOKLINE_PROBE_AFTER_SECONDS: count(1, 7 * 24 * 3600).default(defaultHealthPolicy.probeAfterSeconds),
  HOOKLINE_PROBE_MAX_SECONDS: count(1, 7 * 24 * 3600).default(defaultHealthPolicy.probeMaxSeconds),
  WEBHOOK_PROVIDER: z
    .enum(['slack', 'teams', 'generic'], { message: 'must be one of slack, teams, generic' })
    .optional(),
  WEBHOOK_URL: z
    .string()
    .regex(/^https?:\/\/[^/\s]+(\/\S*)?$/, { message: 'must be an absolute http or https URL' })
    .optional(),
  WEBHOOK_VERBOSITY: z
    .enum(['MUTATIONS', 'QUERIES', 'ALL'], { message: 'must be one of MUTATIONS, QUERIES, ALL' })
    .default('MUTATIONS'),
  HOOKLINE_ALLOW_PRIVATE_TARGETS: z
    .string()
    .refine((v) => validateAllowList(v) === null, {
      message: 'must be true, or a comma-separated list of CIDRs and host names',
    })
    .optional(),
  HOOKLINE_CLUSTER_ID: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,128}$/, { message: 'must be 1-128 letters, digits, "_", ".", ":" or "-"' })
    .default('hookline'),
  HOOKLINE_SUBSCRIBER_BUFFER: count(1, 100_000).default(1000),
  // 1 KiB holds an event envelope; past 64 MiB a body is a mistake, and it is held in memory.
  HOOKLINE_MAX_REQUEST_BYTES: count(1024, 64 * 1024 * 1024).default(DEFAULT_MAX_REQUEST_BYTES),
  HOOKLINE_MAX_SUBSCRIPTIONS_PER_TOKEN: count(1, 1_000_000).default(100),
  HOOKLINE_MAX_SUBSCRIPTIONS: count(1, 10_000_000).default(10_000),
  HOOKLINE_PUBLIC_URL: z
    .string()
    .regex(/^https?:\/\/[^/\s]+(\/\S*)?$/, { message: 'must be an absolute http or https URL' })
    .optional(),
  HOOKLINE_API_RATE_LIMIT: count(1, 1_000_000).optional(),
  HOOKLINE_RETENTION_DAYS: count(1, 36_500).default(30),
  HOOKLINE_USERS_MANAGE_WEBHOOKS: z
    .enum(['true', 'false'], { message: 'must be true or false' })
    .transform((v) => v === 'true')
    .default(true),
  HOOKLINE_METRICS_OPERATION_NAMES: count(0, 10_000).default(defaultLabelLimits.operationNames),
  HOOKLINE_METRICS_WEBHOOKS: count(0, 10_000).default(defaultLabelLimits.webhooks),
  HOOKLINE_TRUSTED_DOCUMENTS: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((file) => file.trim())
        .filter(Boolean),
    )
    .optional(),
  HOOKLINE_TRUSTED_ONLY_ROLES: z
    .string()
    .transform((v) =>
      v
        .split(',')
        .map((role) => role.trim().toUpperCase())
        .filter(Boolean),
    )
    .refine((list) => list.every((role) => (roles as readonly string[]).includes(role)), {
      message: `must be a comma-separated list of ${roles.join(', ')}`,
    })
    .transform((list) => list as Role[])
    .optional(),
  // OpenTelemetry's own variables, by the specification's names and defaults.
  OTEL_SDK_DISABLED: z.enum(['true', 'false'], { message: 'must be true or false' }).optional(),
  OTEL_TRACES_EXPORTER: z.enum(['otlp', 'none'], { message: 'must be otlp or none' }).optional(),
  OTEL_EXPORTER_OTLP_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: httpUrl.optional(),
  OTEL_EXPORTER_OTLP_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: otlpProtocol.optional(),
  OTEL_EXPORTER_OTLP_HEADERS: keyValues.optional(),
  OTEL_EXPORTER_OTLP_TRACES_HEADERS: keyValues.optional(),
  OTEL_EXPORTER_OTLP_TIMEOUT: count(1, 3_600_000).optional(),
  OTEL_EXPORTER_OTLP_TRACES_TIMEOUT: count(1, 3_600_000).optional(),
  OTEL_EXPORTER_OTLP_COMPRESSION: compression.optional(),
  OTEL_EXPORTER_OTLP_TRACES_COMPRESSION: compression.optional(),
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  OTEL_RESOURCE_ATTRIBUTES: keyValues.optional(),
  OTEL_TRACES_SAMPLER: z.enum(samplers, { message: `must be one of ${samplers.join(', ')}` }).optional(),
  OTEL_TRACES_SAMPLER_ARG: z
    .string()
    .regex(/^(0(\.\d+)?|1(\.0+)?)$/, { message: 'must be a number from 0 to 1' })
    .transform(Number)
    .optional(),
  OTEL_BSP_SCHEDULE_DELAY: count(1, 3_600_000).optional(),
  OTEL_BSP_EXPORT_TIMEOUT: count(1, 3_600_000).optional(),
  OTEL_BSP_MAX_QUEUE_SIZE: count(1, 10_000_000).optional(),
  OTEL_BSP_MAX_EXPORT_BATCH_SIZE: count(1, 10_000_000).optional(),
  HOOKLINE_CORS_ORIGINS: z
    .string()
    .refine((v) => parseCorsOrigins(v) !== null, {
      message:
        'must be *, or a comma-separated list of origins written as a browser sends them: scheme://host[:port] in lower case, without a default port, path or trailing slash (https://console.example.com)',
    })
    .transform((v) => parseCorsOrigins(v) as CorsOrigins)
    .optional(),
});

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * Reads the environment once. Empty variables count as unset, as in most env-file tooling.
 * Throws ConfigError with one line per bad variable.
 */
export function parseConfig(env: NodeJS.ProcessEnv): Config {
  const present = Object.fromEntries(
    Object.keys(environment.shape)
      .map((key) => [key, env[key]] as const)
      .filter(([, value]) => value !== undefined && value !== ''),
  );
  const parsed = environment.safeParse(present);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const name = String(issue.path[0]);
      const shown = secretVariables.has(name) ? '' : ` (got ${JSON.stringify(present[name])})`;
      return `invalid configuration: ${name} ${issue.message}${shown}`;
    });
    throw new ConfigError(problems);
  }
  const v = parsed.data;
  // Kpow: both or neither (a URL without a provider, or the reverse, is a typo to report).
  if (Boolean(v.WEBHOOK_PROVIDER) !== Boolean(v.WEBHOOK_URL)) {
    const missing = v.WEBHOOK_PROVIDER ? 'WEBHOOK_URL' : 'WEBHOOK_PROVIDER';
    const other = v.WEBHOOK_PROVIDER ? 'WEBHOOK_PROVIDER' : 'WEBHOOK_URL';
    throw new ConfigError([`invalid configuration: ${missing} is required when ${other} is set`]);
  }
  const database: DatabaseTarget =
    v.DATABASE_URL === undefined
      ? { kind: 'embedded', dataDir: v.HOOKLINE_DATA_DIR }
      : v.DATABASE_URL === 'memory://'
        ? { kind: 'pglite', dataDir: null }
        : { kind: 'postgres', url: v.DATABASE_URL };
  return {
    database,
    port: v.PORT,
    host: v.HOST,
    adminToken: v.HOOKLINE_ADMIN_TOKEN,
    logLevel: v.LOG_LEVEL,
    publicUrl: v.HOOKLINE_PUBLIC_URL?.replace(/\/+$/, ''),
    corsOrigins: v.HOOKLINE_CORS_ORIGINS ?? [],
    apiRateLimit: v.HOOKLINE_API_RATE_LIMIT,
    subscriberBuffer: v.HOOKLINE_SUBSCRIBER_BUFFER,
    subscriptionLimits: {
      perToken: v.HOOKLINE_MAX_SUBSCRIPTIONS_PER_TOKEN,
      total: v.HOOKLINE_MAX_SUBSCRIPTIONS,
    },
    clusterId: v.HOOKLINE_CLUSTER_ID,
    allowPrivateTargets: v.HOOKLINE_ALLOW_PRIVATE_TARGETS,
    envWebhook:
      v.WEBHOOK_PROVIDER && v.WEBHOOK_URL
        ? { provider: v.WEBHOOK_PROVIDER, url: v.WEBHOOK_URL, verbosity: v.WEBHOOK_VERBOSITY }
        : null,
    dispatcher: {
      maxInFlight: v.HOOKLINE_DISPATCH_CONCURRENCY,
      perWebhook: v.HOOKLINE_WEBHOOK_CONCURRENCY,
      leaseMarginMs: v.HOOKLINE_LEASE_MARGIN_MS,
      pollMs: v.HOOKLINE_POLL_MS,
    },
    shutdownGraceMs: v.HOOKLINE_SHUTDOWN_GRACE_MS,
    health: {
      disableAfterSeconds: v.HOOKLINE_DISABLE_AFTER_SECONDS,
      disableErrorRate: v.HOOKLINE_DISABLE_ERROR_RATE / 100,
      failingAfterAttempts: v.HOOKLINE_FAILING_AFTER_ATTEMPTS,
      probeAfterSeconds: v.HOOKLINE_PROBE_AFTER_SECONDS,
      // Never below the first wait: the backoff only grows.
      probeMaxSeconds: Math.max(v.HOOKLINE_PROBE_MAX_SECONDS, v.HOOKLINE_PROBE_AFTER_SECONDS),
    },
    maxRequestBytes: v.HOOKLINE_MAX_REQUEST_BYTES,
    usersManageWebhooks: v.HOOKLINE_USERS_MANAGE_WEBHOOKS,
    retentionDays: v.HOOKLINE_RETENTION_DAYS,
    trustedDocuments: {
      files: v.HOOKLINE_TRUSTED_DOCUMENTS ?? [],
      onlyRoles: v.HOOKLINE_TRUSTED_ONLY_ROLES ?? [],
    },
    metricLabels: {
      operationNames: v.HOOKLINE_METRICS_OPERATION_NAMES,
      webhooks: v.HOOKLINE_METRICS_WEBHOOKS,
    },
    tracing: tracingConfig(v),
  };
}

/**
 * Traces are exported once an OTLP endpoint is named, unless OTEL_SDK_DISABLED or
 * OTEL_TRACES_EXPORTER=none says otherwise. The traces-specific variable of each pair wins;
 * a general endpoint gets the signal's path (/v1/traces) appended, a specific one is used as is.
 */
function tracingConfig(v: z.infer<typeof environment>): TracingConfig | null {
  if (v.OTEL_SDK_DISABLED === 'true' || v.OTEL_TRACES_EXPORTER === 'none') return null;
  const url =
    v.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (v.OTEL_EXPORTER_OTLP_ENDPOINT && `${v.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/+$/, '')}/v1/traces`);
  if (!url) return null;
  const resourceAttributes = v.OTEL_RESOURCE_ATTRIBUTES ?? {};
  const bsp = {
    scheduledDelayMillis: v.OTEL_BSP_SCHEDULE_DELAY,
    exportTimeoutMillis: v.OTEL_BSP_EXPORT_TIMEOUT,
    maxQueueSize: v.OTEL_BSP_MAX_QUEUE_SIZE,
    maxExportBatchSize: v.OTEL_BSP_MAX_EXPORT_BATCH_SIZE,
  };
  return {
    url,
    protocol: v.OTEL_EXPORTER_OTLP_TRACES_PROTOCOL ?? v.OTEL_EXPORTER_OTLP_PROTOCOL ?? 'http/protobuf',
    headers: { ...v.OTEL_EXPORTER_OTLP_HEADERS, ...v.OTEL_EXPORTER_OTLP_TRACES_HEADERS },
    timeoutMs: v.OTEL_EXPORTER_OTLP_TRACES_TIMEOUT ?? v.OTEL_EXPORTER_OTLP_TIMEOUT,
    compression: v.OTEL_EXPORTER_OTLP_TRACES_COMPRESSION ?? v.OTEL_EXPORTER_OTLP_COMPRESSION,
    serviceName: v.OTEL_SERVICE_NAME ?? resourceAttributes['service.name'] ?? 'hookline',
    resourceAttributes,
    sampler: { name: v.OTEL_TRACES_SAMPLER ?? 'parentbased_always_on', arg: v.OTEL_TRACES_SAMPLER_ARG },
    batch: Object.fromEntries(Object.entries(bsp).filter(([, n]) => n !== undefined)),
  };
}
