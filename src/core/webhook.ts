export const webhookTypes = [
  'GENERIC',
  'SLACK',
  'MSTEAMS',
  'GOOGLECHAT',
  'DISCORD',
  'DINGTALK',
  'FEISHU',
  'WECOM',
  'CUSTOM',
] as const;
export type WebhookType = (typeof webhookTypes)[number];

export const webhookStatuses = [
  'ACTIVE',
  'DISABLED',
  'FAILED',
  'AWAITING_RETRY',
  'RETRY_LIMIT_REACHED',
] as const;
export type WebhookStatus = (typeof webhookStatuses)[number];

export const eventLevels = ['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR'] as const;
export type EventLevel = (typeof eventLevels)[number];

export const eventsPolicyModes = ['INCLUDE', 'EXCLUDE'] as const;
export type EventsPolicyMode = (typeof eventsPolicyModes)[number];

export const httpAuthTypes = ['NONE', 'BASIC', 'BEARER'] as const;
export type HttpAuthType = (typeof httpAuthTypes)[number];

export const ownerTypes = ['user', 'team'] as const;

export const verbosities = ['MUTATIONS', 'QUERIES', 'ALL'] as const;
export type Verbosity = (typeof verbosities)[number];
export type OwnerType = (typeof ownerTypes)[number];

/** How a condition compares the value at its path with its own (Convoy-style filter operators). */
export const filterOps = ['EQ', 'NE', 'IN', 'NOT_IN', 'PREFIX', 'GT', 'GTE', 'LT', 'LTE', 'EXISTS'] as const;
export type FilterOp = (typeof filterOps)[number];

/** The event fields a condition may name; anything else must be a `data.<dotted path>`. */
export const conditionFields = [
  'entityType',
  'entityFqn',
  'cluster',
  'namespace',
  'level',
  'actor.name',
] as const;

/** A scalar a condition compares with: what a JSON leaf can be, null aside. */
export type ConditionScalar = string | number | boolean;

export interface FieldCondition {
  path: string;
  op: FilterOp;
  /** A scalar; a list of them for IN/NOT_IN; a boolean or nothing for EXISTS. */
  value?: ConditionScalar | ConditionScalar[];
}

export interface EventFilter {
  eventTypes?: string[];
  entities?: string[];
  clusters?: string[];
  namespaces?: string[];
  include?: string[];
  exclude?: string[];
  /** Conditions that must all hold, beside the fields above. */
  where?: FieldCondition[];
}

export interface EventsPolicy {
  mode: EventsPolicyMode;
  eventTypes: string[];
}

export interface HeaderSetting {
  name: string;
  /** Absent for a secret header: its value lives in WebhookSecrets.headers, or at valueFrom. */
  value?: string;
  secret: boolean;
  /** A secret header whose value is read at send time from a variable or file (operator only). */
  valueFrom?: SecretReference;
}

export interface SecretReference {
  env?: string;
  file?: string;
}

/** The readable part of a webhook's endpoint configuration. */
export interface StoredConfig {
  endpoint: string;
  headers: HeaderSetting[];
  timeoutMs: number;
  secretFrom: SecretReference | null;
  httpAuthType: HttpAuthType;
  httpAuthUsername: string | null;
  /**
   * Where the Basic password or Bearer token is read at send time, instead of a stored value
   * (operator only, like secretFrom); null or absent when it is stored.
   */
  httpAuthSecretFrom?: SecretReference | null;
  allowInvalidCerts: boolean;
  /** Also send Stalwart's `X-Signature: base64(HMAC-SHA256(key, body))`. */
  xSignature: boolean;
  /**
   * The name of the `sha256=<hex>` signature header; null (and rows stored before it existed)
   * for DEFAULT_SIGNATURE_HEADER. Receivers written for another product expect its own name.
   */
  signatureHeader?: string | null;
  sendToAdmins: boolean;
  sendToOwners: boolean;
  sendToFollowers: boolean;
  template: unknown;
}

/** Write-only material: stored, used to send, never returned. */
export interface WebhookSecrets {
  secretKey?: string;
  /** The secret replaced by rotateWebhookSecret, which keeps signing until it expires. */
  previousSecretKey?: string;
  previousSecretExpiresAt?: string;
  httpAuthSecret?: string;
  headers?: Record<string, string>;
}

export interface RetryPolicy {
  scheduleSeconds: number[];
  discardAfterSeconds: number | null;
  lossy: boolean;
  throttleMs: number;
}

export interface FailureDetails {
  lastFailedAt: string | null;
  lastFailedStatusCode: number | null;
  lastFailedReason: string | null;
  nextAttempt: string | null;
  /**
   * When the current run of failures began: set by the first failure, cleared once the error
   * rate over the auto-disable window drops below its threshold (a success, at the default).
   */
  failingSince?: string | null;
  /**
   * Set only when the health rule disabled the webhook (not a person): when it is next probed
   * and how long the wait after that probe will be if it fails (the circuit breaker's state).
   */
  probe?: { at: string; backoffSeconds: number };
}

export interface EntityReference {
  id: string | null;
  type: OwnerType;
  name: string;
}

export interface FieldChange {
  name: string;
  oldValue?: unknown;
  newValue?: unknown;
}

export interface ChangeDescription {
  fieldsAdded: FieldChange[];
  fieldsUpdated: FieldChange[];
  fieldsDeleted: FieldChange[];
  /** Tenths, as stored: 3 is version 0.3. */
  previousVersionSeq: number;
}

export interface Webhook {
  id: string;
  tenantId: string;
  name: string;
  displayName: string | null;
  description: string | null;
  webhookType: WebhookType;
  status: WebhookStatus;
  enabled: boolean;
  batchSize: number;
  /** Requests per second at most, across every process; null for no limit. */
  rateLimit: number | null;
  /** One request at a time in publish order: a retrying delivery holds back the later ones. */
  fifo: boolean;
  eventFilters: EventFilter[];
  eventsPolicy: EventsPolicy | null;
  minLevel: EventLevel | null;
  config: StoredConfig;
  hasSecret: boolean;
  retryPolicy: RetryPolicy;
  failureDetails: FailureDetails | null;
  owner: EntityReference | null;
  tags: string[];
  domain: string | null;
  /** Receives every event of its tenant even though a USER owns it (only an ADMIN sets it). */
  global: boolean;
  /** Made by a USER: gets only events about entities its owner owns or follows, unless global. */
  personal: boolean;
  /** Which audit events of the API it receives (Kpow's WEBHOOK_VERBOSITY); none when null. */
  verbosity: Verbosity | null;
  /** The version in tenths (1 is 0.1), so that versions add up without float drift. */
  versionSeq: number;
  changeDescription: ChangeDescription | null;
  deleted: boolean;
  createdAt: Date;
  updatedAt: Date;
  updatedBy: string;
}

export interface WebhookVersion {
  webhookId: string;
  versionSeq: number;
  snapshot: Record<string, unknown>;
  changeDescription: ChangeDescription | null;
  updatedAt: Date;
  updatedBy: string;
}

// OpenMetadata's schedule: 1 min, 5 min, 15 min, 1 h, 4 h, 12 h, then retry limit reached.
export const defaultRetrySchedule = [60, 300, 900, 3600, 14_400, 43_200];

export const defaults = {
  enabled: true,
  // One event per request unless asked otherwise: receivers written for single events
  // (most of them) never see a batch envelope by surprise.
  batchSize: 1,
  fifo: false,
  timeoutMs: 10_000,
  retryPolicy: {
    scheduleSeconds: defaultRetrySchedule,
    discardAfterSeconds: null,
    lossy: false,
    throttleMs: 0,
  } satisfies RetryPolicy,
} as const;

/** The `sha256=<hex>` signature header of a webhook that names no other. */
export const DEFAULT_SIGNATURE_HEADER = 'X-Hookline-Signature';

export const signatureHeaderOf = (config: StoredConfig) => config.signatureHeader ?? DEFAULT_SIGNATURE_HEADER;

export const versionFromSeq = (seq: number) => seq / 10;

/** OpenMetadata quotes a name that holds the FQN separator. */
export const fullyQualifiedName = (name: string) => (name.includes('.') ? `"${name}"` : name);

export const hasSecret = (secrets: WebhookSecrets, config: StoredConfig) =>
  Boolean(secrets.secretKey) || Boolean(config.secretFrom);
