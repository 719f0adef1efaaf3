import { badInput } from '../../errors.js';
import { encodeGlobalId, idOf } from '../../ids.js';
import {
  type ChangeDescription,
  type EntityReference,
  type EventFilter,
  type EventsPolicy,
  type EventsPolicyMode,
  type EventLevel,
  type HttpAuthType,
  type Verbosity,
  type WebhookStatus,
  type WebhookType,
  type FieldCondition,
  type FilterOp,
  type FailureDetails,
  type FieldChange,
  fullyQualifiedName,
  type RetryPolicy,
  type SecretReference,
  signatureHeaderOf,
  type StoredConfig,
  versionFromSeq,
  type Webhook,
  type WebhookVersion,
} from '../../core/webhook.js';
import type { WebhookFilter } from '../../webhooks/repository.js';
import { publicHeaders } from '../../webhooks/view.js';
import { builder } from '../builder.js';
import { describedValues } from '../enum-values.js';
import { keysetConnection } from '../pagination.js';

export const WebhookTypeEnum = builder.enumType('WebhookType', {
  description: "The platform a webhook sends to; it decides the request's body (see previewPayload).",
  values: describedValues<WebhookType>({
    GENERIC:
      'Any HTTPS endpoint of yours: the event envelope as JSON (`{eventId, eventType, timestamp, entity, ...}`), a batch as `{"events": [...]}`, audit events as Kpow audit records.',
    SLACK: 'A Slack incoming webhook: a Block Kit message.',
    MSTEAMS: 'A Microsoft Teams workflow webhook: a message with an Adaptive Card 1.4.',
    GOOGLECHAT: 'A Google Chat space webhook: a cardsV2 message.',
    DISCORD: 'A Discord channel webhook: a message with embeds.',
    DINGTALK:
      "A DingTalk robot: a markdown message; with a secret, DingTalk's own signing (query parameters).",
    FEISHU: "A Feishu (Lark) bot: an interactive card; with a secret, Feishu's own signing (in the body).",
    WECOM: 'A WeCom (WeChat Work) group robot: a markdown message.',
    CUSTOM: 'Your own JSON body: config.template with `{{path}}` placeholders filled from the event.',
  }),
});
export const WebhookStatusEnum = builder.enumType('WebhookStatus', {
  description: "How a webhook's deliveries are going.",
  values: describedValues<WebhookStatus>({
    ACTIVE: 'Delivering: its last attempt succeeded, or none has failed yet.',
    DISABLED:
      'Turned off (`enabled: false`) by a person or by the endpoint-health rule: its queued deliveries wait, and events published meanwhile are not queued for it.',
    FAILED:
      'The endpoint answered 410 Gone: nothing more is sent until the webhook is changed (any update makes it ACTIVE again).',
    AWAITING_RETRY: 'A delivery failed and waits for its next attempt (see failureDetails.nextAttempt).',
    RETRY_LIMIT_REACHED:
      'A delivery failed every attempt of the retry schedule and ended FAILED; new deliveries are still sent.',
  }),
});
export const EventLevelEnum = builder.enumType('EventLevel', {
  description: 'Severity of an event; a webhook with a minLevel receives only events at or above it.',
  values: describedValues<EventLevel>({
    TRACE: 'The lowest: step-by-step detail.',
    DEBUG: 'Detail for diagnosing.',
    INFO: 'Normal operation; the level of an event published without one.',
    WARN: 'Something that needs attention.',
    ERROR: 'Something failed; the highest.',
  }),
});

// Who else is told of the events a webhook matches (src/events/recipients.ts).
const THROUGH =
  'through the webhooks they own (owner type user), once each, whatever their own filters. Not on a personal webhook unless global.';
const SEND_TO_ADMINS = `Also delivers each matched event to the tenant's ADMINs (its live ADMIN tokens' names), ${THROUGH}`;
const SEND_TO_OWNERS = `Also delivers each matched event to the entity's owners (data.owner / data.owners), ${THROUGH}`;
const SEND_TO_FOLLOWERS = `Also delivers each matched event to the entity's followers (data.followers), ${THROUGH}`;

const EventsPolicyModeEnum = builder.enumType('EventsPolicyMode', {
  description: 'Whether an eventsPolicy lets through only the event types it lists, or all but them.',
  values: describedValues<EventsPolicyMode>({
    INCLUDE: 'Only the listed event types reach the webhook.',
    EXCLUDE: 'Every event type but the listed ones reaches the webhook.',
  }),
});
const HttpAuthTypeEnum = builder.enumType('HttpAuthType', {
  description: "The `Authorization` header a webhook's requests carry.",
  values: describedValues<HttpAuthType>({
    NONE: 'None.',
    BASIC: '`Basic base64(username:password)`.',
    BEARER: '`Bearer <token>`.',
  }),
});
const VerbosityEnum = builder.enumType('Verbosity', {
  description: "Which audit events of Hookline's own API a webhook receives (Kpow's WEBHOOK_VERBOSITY).",
  values: describedValues<Verbosity>({
    MUTATIONS: 'One per GraphQL mutation (`audit.mutation`).',
    QUERIES: 'One per GraphQL query (`audit.query`).',
    ALL: 'Both.',
  }),
});

const filterOpDescriptions: Record<FilterOp, string> = {
  EQ: 'The value equals `value` (a string, number or boolean; typed: 5 is not "5").',
  NE: 'The value does not equal `value`; holds when the field is missing.',
  IN: 'The value equals one of `value`, a list of 1 to 100 scalars.',
  NOT_IN: 'The value equals none of `value`; holds when the field is missing.',
  PREFIX: 'The value is a string starting with `value`, a non-empty string.',
  GT: 'The value is a number greater than `value`.',
  GTE: 'The value is a number greater than or equal to `value`.',
  LT: 'The value is a number less than `value`.',
  LTE: 'The value is a number less than or equal to `value`.',
  EXISTS: 'The field is present and not null (`value` true or absent), or missing or null (`value` false).',
};
const FilterOpEnum = builder.enumType('FilterOp', {
  description: 'How a field condition compares the value at its path with its own value.',
  values: describedValues(filterOpDescriptions),
});

// ---- output types -------------------------------------------------------------------------

// An event filter's lists, read back as they were set; null (or left out) matches anything.
const EVENT_TYPES =
  'Event types it takes (`*` or `ALL_NOTIFICATIONS` for all; operational types only when named); null for any.';
const ENTITIES = "Entity types it takes (the event's entityType); null for any.";
const CLUSTERS = 'Clusters it takes; null for any.';
const NAMESPACES = 'Namespaces it takes; null for any.';
const INCLUDE =
  'Changed fields (`tags`, `columns` for `columns.description`) or `key:value` attributes (`domain:Sales`), one of which must match; null for no such test.';
const EXCLUDE = 'Changed fields or `key:value` attributes none of which may match; null for no such test.';

const FieldConditionRef = builder.objectRef<FieldCondition>('FieldCondition').implement({
  description: 'One condition of an event filter, as it was set.',
  fields: (t) => ({
    path: t.exposeString('path', { description: 'An event field or `data.<dotted path>`.' }),
    op: t.expose('op', { type: FilterOpEnum, description: 'The comparison.' }),
    value: t.field({
      type: 'JSON',
      nullable: true,
      description: 'What the value is compared with; null for EXISTS without a value.',
      resolve: (c) => c.value ?? null,
    }),
  }),
});

const EventFilterRef = builder.objectRef<EventFilter>('EventFilter').implement({
  description: 'Within one filter every set field must match; a webhook fires when any of its filters does.',
  fields: (t) => ({
    eventTypes: t.exposeStringList('eventTypes', { nullable: true, description: EVENT_TYPES }),
    entities: t.exposeStringList('entities', { nullable: true, description: ENTITIES }),
    clusters: t.exposeStringList('clusters', { nullable: true, description: CLUSTERS }),
    namespaces: t.exposeStringList('namespaces', { nullable: true, description: NAMESPACES }),
    include: t.exposeStringList('include', { nullable: true, description: INCLUDE }),
    exclude: t.exposeStringList('exclude', { nullable: true, description: EXCLUDE }),
    where: t.field({
      type: [FieldConditionRef],
      nullable: true,
      description: 'Conditions on event fields or data paths, all of which must hold.',
      resolve: (f) => f.where ?? null,
    }),
  }),
});

const EventsPolicyRef = builder.objectRef<EventsPolicy>('EventsPolicy').implement({
  description: 'A list of event types let through, or kept out, before any filter is looked at.',
  fields: (t) => ({
    mode: t.expose('mode', {
      type: EventsPolicyModeEnum,
      description: 'Whether the list lets through or keeps out.',
    }),
    eventTypes: t.exposeStringList('eventTypes', { description: 'The event types (`*` for all).' }),
  }),
});

const SecretReferenceRef = builder.objectRef<{ env?: string; file?: string }>('SecretReference').implement({
  description:
    'Where a secret (the signing secret, a Basic password, a Bearer token or a header value) is read from at send time.',
  fields: (t) => ({
    env: t.exposeString('env', {
      nullable: true,
      description: 'The environment variable of the sending process; null when a file is named.',
    }),
    file: t.exposeString('file', {
      nullable: true,
      description: 'The absolute file path; null when a variable is named.',
    }),
  }),
});

const HttpHeaderRef = builder
  .objectRef<{ name: string; value: string | null; secret: boolean; valueFrom?: SecretReference }>(
    'HttpHeader',
  )
  .implement({
    description: 'An extra header sent with every request of the webhook.',
    fields: (t) => ({
      name: t.exposeString('name', { description: 'The header name, as it was set.' }),
      value: t.exposeString('value', { nullable: true, description: 'Null for a secret header.' }),
      secret: t.exposeBoolean('secret', {
        description: 'Whether the value is secret: stored (or read at send time) and never returned.',
      }),
      valueFrom: t.field({
        type: SecretReferenceRef,
        nullable: true,
        description:
          'The environment variable or file the value is read from at send time; null when the value is stored.',
        resolve: (h) => h.valueFrom ?? null,
      }),
    }),
  });

const WebhookConfigRef = builder
  .objectRef<{ config: StoredConfig; webhook: Webhook }>('WebhookConfig')
  .implement({
    description: 'Endpoint settings. Secrets, passwords and secret header values are write-only.',
    fields: (t) => ({
      endpoint: t.string({
        description: 'The http(s) URL requests are POSTed to.',
        resolve: ({ config }) => config.endpoint,
      }),
      headers: t.field({
        type: [HttpHeaderRef],
        description: 'Extra headers sent with every request; empty when none.',
        resolve: ({ webhook }) => publicHeaders(webhook),
      }),
      timeoutMs: t.int({
        description:
          'How long an attempt waits for the answer, in milliseconds (100-60000; 10000 unless set).',
        resolve: ({ config }) => config.timeoutMs,
      }),
      hasSecret: t.boolean({
        description:
          'Whether requests are signed: a signing secret is stored (secretKey) or read at send time (secretFrom).',
        resolve: ({ webhook }) => webhook.hasSecret,
      }),
      secretFrom: t.field({
        type: SecretReferenceRef,
        nullable: true,
        description:
          'Where the signing secret is read at send time; null when it is stored (or there is none).',
        resolve: ({ config }) => config.secretFrom,
      }),
      httpAuthType: t.field({
        type: HttpAuthTypeEnum,
        description: 'The Authorization header requests carry.',
        resolve: ({ config }) => config.httpAuthType,
      }),
      httpAuthUsername: t.string({
        nullable: true,
        description: 'The Basic username; null for any other type.',
        resolve: ({ config }) => config.httpAuthUsername,
      }),
      httpAuthSecretFrom: t.field({
        type: SecretReferenceRef,
        nullable: true,
        description:
          'Where the Basic password or Bearer token is read at send time (set by passwordFrom or tokenFrom); null when it is stored.',
        resolve: ({ config }) => config.httpAuthSecretFrom ?? null,
      }),
      allowInvalidCerts: t.boolean({
        description:
          "Whether an https endpoint's certificate is accepted without being checked (self-signed, expired).",
        resolve: ({ config }) => config.allowInvalidCerts,
      }),
      xSignature: t.boolean({
        description: 'Whether requests also carry Stalwart-style `X-Signature: base64(HMAC-SHA256)`.',
        resolve: ({ config }) => config.xSignature ?? false,
      }),
      signatureHeader: t.string({
        description:
          'The name of the header that carries `sha256=<hex HMAC-SHA256(key, body)>` when the webhook has a secret: `X-Hookline-Signature` unless the webhook names another.',
        resolve: ({ config }) => signatureHeaderOf(config),
      }),
      sendToAdmins: t.boolean({ description: SEND_TO_ADMINS, resolve: ({ config }) => config.sendToAdmins }),
      sendToOwners: t.boolean({ description: SEND_TO_OWNERS, resolve: ({ config }) => config.sendToOwners }),
      sendToFollowers: t.boolean({
        description: SEND_TO_FOLLOWERS,
        resolve: ({ config }) => config.sendToFollowers,
      }),
      template: t.field({
        type: 'JSON',
        nullable: true,
        description: 'The body template of a CUSTOM webhook; null for any other type.',
        resolve: ({ config }) => config.template ?? null,
      }),
    }),
  });

const RetryPolicyRef = builder.objectRef<RetryPolicy>('RetryPolicy').implement({
  description:
    'When failed deliveries are tried again, and when they are given up. 2xx is success; 408, 429, 5xx, timeouts and connection errors are retried; 410 and other 4xx are not.',
  fields: (t) => ({
    scheduleSeconds: t.exposeIntList('scheduleSeconds', {
      description:
        'Delay before each retry, in seconds (a longer `Retry-After` wins, up to 24 h); by default 60, 300, 900, 3600, 14400, 43200.',
    }),
    maxAttempts: t.int({
      description: 'The first attempt plus one retry per schedule step.',
      resolve: (p) => p.scheduleSeconds.length + 1,
    }),
    discardAfterSeconds: t.exposeInt('discardAfterSeconds', {
      nullable: true,
      description:
        'A delivery not sent within this many seconds of its creation is DISCARDED instead of retried; null for never.',
    }),
    lossy: t.exposeBoolean('lossy', {
      description: 'Whether a failed delivery is DISCARDED at once instead of retried.',
    }),
    throttleMs: t.exposeInt('throttleMs', {
      description:
        "Minimum interval between requests, in milliseconds (0: none): at most one request per window, carrying every event that arrived meanwhile (up to batchSize). A quiet webhook's first event goes at once and opens the window.",
    }),
  }),
});

const FailureDetailsRef = builder.objectRef<FailureDetails>('FailureDetails').implement({
  description: "The webhook's latest failure, kept after it recovers.",
  fields: (t) => ({
    lastFailedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When an attempt last failed.',
      resolve: (f) => f.lastFailedAt,
    }),
    lastFailedStatusCode: t.exposeInt('lastFailedStatusCode', {
      nullable: true,
      description: 'The HTTP status of that attempt; null when no answer came (timeout, connection, TLS).',
    }),
    lastFailedReason: t.exposeString('lastFailedReason', {
      nullable: true,
      description: 'What went wrong, in words.',
    }),
    nextAttempt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the failed delivery is tried again; null when it is not retried.',
      resolve: (f) => f.nextAttempt,
    }),
    failingSince: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When the current run of failures began; the auto-disable window counts from it.',
      resolve: (f) => f.failingSince ?? null,
    }),
    nextProbeAt: t.field({
      type: 'DateTime',
      nullable: true,
      description:
        'For a webhook the health rule disabled: when one of its queued deliveries is next sent to see whether it answers again. Null for any other.',
      resolve: (f) => f.probe?.at ?? null,
    }),
  }),
});

const EntityReferenceRef = builder.objectRef<EntityReference>('EntityReference').implement({
  description: 'A user or a team, by name.',
  fields: (t) => ({
    id: t.exposeString('id', {
      nullable: true,
      description: 'Its id in your system; null when none was given.',
    }),
    type: t.exposeString('type', { description: '`user` or `team`.' }),
    name: t.exposeString('name', { description: 'Its name; for a user, the name of its API token.' }),
  }),
});

const TagLabelRef = builder.objectRef<{ tagFQN: string }>('TagLabel').implement({
  description: 'A tag on a webhook.',
  fields: (t) => ({
    tagFQN: t.exposeString('tagFQN', {
      description: "The tag's fully qualified name, such as `PII.Sensitive`.",
    }),
  }),
});

export const FieldChangeRef = builder.objectRef<FieldChange>('FieldChange').implement({
  description:
    "One field that changed, of an event's entity or of a webhook, with its values before and after.",
  fields: (t) => ({
    name: t.exposeString('name', {
      description: 'The field, dotted for a nested one (`columns.description`, `config.timeoutMs`).',
    }),
    oldValue: t.field({
      type: 'JSON',
      nullable: true,
      description: "Its value before; null when it had none. A webhook's secret shows as `********`.",
      resolve: (c) => c.oldValue ?? null,
    }),
    newValue: t.field({
      type: 'JSON',
      nullable: true,
      description: "Its value after; null when it has none. A webhook's secret shows as `********`.",
      resolve: (c) => c.newValue ?? null,
    }),
  }),
});

const ChangeDescriptionRef = builder.objectRef<ChangeDescription>('ChangeDescription').implement({
  description: 'What one change did to a webhook, against the version before it.',
  fields: (t) => ({
    fieldsAdded: t.field({
      type: [FieldChangeRef],
      description: 'Fields that had no value and have one (tags added, for tags).',
      resolve: (c) => c.fieldsAdded,
    }),
    fieldsUpdated: t.field({
      type: [FieldChangeRef],
      description: 'Fields whose value changed.',
      resolve: (c) => c.fieldsUpdated,
    }),
    fieldsDeleted: t.field({
      type: [FieldChangeRef],
      description: 'Fields whose value was cleared (tags removed, for tags).',
      resolve: (c) => c.fieldsDeleted,
    }),
    previousVersion: t.float({
      description: 'The version it was made against.',
      resolve: (c) => versionFromSeq(c.previousVersionSeq),
    }),
  }),
});

const WebhookVersionRef = builder.objectRef<WebhookVersion>('WebhookVersion').implement({
  description: 'A webhook as one change left it.',
  fields: (t) => ({
    version: t.float({
      description: 'The version number (0.1, 0.2, ...).',
      resolve: (v) => versionFromSeq(v.versionSeq),
    }),
    updatedAt: t.field({
      type: 'DateTime',
      description: 'When the change was made.',
      resolve: (v) => v.updatedAt,
    }),
    updatedBy: t.exposeString('updatedBy', {
      description: 'Who made it: the name of the token, or `hookline` for a change Hookline made itself.',
    }),
    changeDescription: t.field({
      type: ChangeDescriptionRef,
      nullable: true,
      description: 'What the change did; null for the first version.',
      resolve: (v) => v.changeDescription,
    }),
    snapshot: t.field({
      type: 'JSON',
      description: 'The webhook as it was at this version (secrets never included).',
      resolve: (v) => v.snapshot,
    }),
  }),
});

export const WebhookRef = builder.objectRef<Webhook>('Webhook');

builder.node(WebhookRef, {
  description:
    'An endpoint that receives the events its filters match, in the format of its webhookType, signed, retried and logged. Every change makes a new version.',
  id: { resolve: (w) => w.id },
  loadOne: (id, ctx) => ctx.webhooks.get(ctx.principal, { id }),
  fields: (t) => ({
    name: t.exposeString('name', {
      description: 'Unique in its tenant: 1-128 letters, digits, `_`, `-` and `.`.',
    }),
    fullyQualifiedName: t.string({
      description: 'The name as OpenMetadata writes it: quoted when it holds a `.`.',
      resolve: (w) => fullyQualifiedName(w.name),
    }),
    displayName: t.exposeString('displayName', {
      nullable: true,
      description: 'A name for people; null when unset.',
    }),
    description: t.exposeString('description', {
      nullable: true,
      description: 'Free text; null when unset.',
    }),
    webhookType: t.expose('webhookType', { type: WebhookTypeEnum, description: 'The platform it sends to.' }),
    status: t.expose('status', { type: WebhookStatusEnum, description: 'How its deliveries are going.' }),
    enabled: t.exposeBoolean('enabled', {
      description: 'Whether it receives and sends events; false is DISABLED.',
    }),
    batchSize: t.exposeInt('batchSize', {
      description: 'Events per request at most (1-1000); above 1, requests carry `{"events": [...]}`.',
    }),
    rateLimit: t.exposeInt('rateLimit', {
      nullable: true,
      description: 'Requests per second at most, across every Hookline process; null for no limit.',
    }),
    fifo: t.exposeBoolean('fifo', {
      description:
        'Deliveries go one request at a time in publish order; one awaiting a retry holds back the later ones until it ends.',
    }),
    eventFilters: t.field({
      type: [EventFilterRef],
      description:
        'It receives an event when any filter matches; empty for every event (but operational ones, which a filter must name).',
      resolve: (w) => w.eventFilters,
    }),
    eventsPolicy: t.field({
      type: EventsPolicyRef,
      nullable: true,
      description: 'Event types let through or kept out before the filters; null for none.',
      resolve: (w) => w.eventsPolicy,
    }),
    minLevel: t.field({
      type: EventLevelEnum,
      nullable: true,
      description: 'The lowest event level it receives; null for every level.',
      resolve: (w) => w.minLevel,
    }),
    config: t.field({
      type: WebhookConfigRef,
      description: 'Where and how requests are sent.',
      resolve: (w) => ({ config: w.config, webhook: w }),
    }),
    retryPolicy: t.field({
      type: RetryPolicyRef,
      description: 'When failed deliveries are retried or given up.',
      resolve: (w) => w.retryPolicy,
    }),
    failureDetails: t.field({
      type: FailureDetailsRef,
      nullable: true,
      description: 'Its latest failure; null when no attempt has ever failed.',
      resolve: (w) => w.failureDetails,
    }),
    owner: t.field({
      type: EntityReferenceRef,
      nullable: true,
      description: "Who owns it; a USER's webhooks are its own. Null when unset.",
      resolve: (w) => w.owner,
    }),
    tags: t.field({
      type: [TagLabelRef],
      description: 'Its tags, a set; empty when none.',
      resolve: (w) => w.tags.map((tagFQN) => ({ tagFQN })),
    }),
    domain: t.exposeString('domain', {
      nullable: true,
      description: 'The business domain it belongs to; null when unset.',
    }),
    global: t.exposeBoolean('global', {
      description: 'Receives all events of its tenant though a USER owns it; only an ADMIN sets it.',
    }),
    personal: t.exposeBoolean('personal', {
      description:
        'Made by a USER: gets only events about entities its owner owns or follows, unless global.',
    }),
    verbosity: t.field({
      type: VerbosityEnum,
      nullable: true,
      description: 'Which audit events of the API it receives (none when null).',
      resolve: (w) => w.verbosity,
    }),
    version: t.float({
      description:
        '0.1 when created, plus 0.1 for each update that changes something, soft delete or restore; expectedVersion of updateWebhook checks it.',
      resolve: (w) => versionFromSeq(w.versionSeq),
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When it was created.',
      resolve: (w) => w.createdAt,
    }),
    updatedAt: t.field({
      type: 'DateTime',
      description: 'When its current version was made.',
      resolve: (w) => w.updatedAt,
    }),
    updatedBy: t.exposeString('updatedBy', {
      description:
        'Who made its current version: the name of the token, or `hookline` for a change Hookline made itself.',
    }),
    href: t.string({
      description: 'The URL of this webhook as JSON over HTTP (GET with the same bearer token).',
      resolve: (w, _args, ctx) => `${ctx.publicUrl}/webhooks/${encodeGlobalId('Webhook', w.id)}`,
    }),
    changeDescription: t.field({
      type: ChangeDescriptionRef,
      nullable: true,
      description: 'What its latest change did; null at version 0.1.',
      resolve: (w) => w.changeDescription,
    }),
    deleted: t.exposeBoolean('deleted', {
      description: 'Soft-deleted: it receives nothing and cannot be changed until restoreWebhook.',
    }),
    versions: t.field({
      type: [WebhookVersionRef],
      description: 'Every version, newest first, the current one included.',
      resolve: (w, _args, ctx) => ctx.webhooks.versions(w),
    }),
  }),
});

// ---- inputs -------------------------------------------------------------------------------

const FieldConditionInput = builder.inputType('FieldConditionInput', {
  description: 'A condition on one value of the event: `path` compared with `value` by `op`.',
  fields: (t) => ({
    path: t.string({
      required: true,
      description:
        'entityType, entityFqn, cluster, namespace, level, actor.name, or data.<dotted path> (at most 10 segments).',
    }),
    op: t.field({ type: FilterOpEnum, required: true, description: 'The comparison.' }),
    value: t.field({
      type: 'JSON',
      description:
        'A scalar; a list of scalars for IN/NOT_IN; a number for GT..LTE; true, false or none for EXISTS.',
    }),
  }),
});

const EventFilterInput = builder.inputType('EventFilterInput', {
  description:
    'Lists of strings; `*` matches anything. `include`/`exclude` name changed fields or `key:value` attributes; `where` adds conditions with operators.',
  fields: (t) => ({
    eventTypes: t.stringList({ description: `${EVENT_TYPES} At most 100 a list.` }),
    entities: t.stringList({ description: ENTITIES }),
    clusters: t.stringList({ description: CLUSTERS }),
    namespaces: t.stringList({ description: NAMESPACES }),
    include: t.stringList({ description: INCLUDE }),
    exclude: t.stringList({ description: EXCLUDE }),
    where: t.field({
      type: [FieldConditionInput],
      description:
        'Conditions on event fields (entityType, entityFqn, cluster, namespace, level, actor.name) or data.<dotted path>; all must hold (at most 20).',
    }),
  }),
});

const EventsPolicyInput = builder.inputType('EventsPolicyInput', {
  description: 'Event types to let through, or to keep out, before any filter is looked at.',
  fields: (t) => ({
    mode: t.field({ type: EventsPolicyModeEnum, required: true, description: 'Let through or keep out.' }),
    eventTypes: t.stringList({ required: true, description: 'The event types, at most 100 (`*` for all).' }),
  }),
});

const SecretReferenceInput = builder.inputType('SecretReferenceInput', {
  description:
    'Read a secret from an environment variable or a file when sending: exactly one of env or file. Only the operator may use it.',
  fields: (t) => ({
    env: t.string({ description: 'The name of an environment variable of the sending process.' }),
    file: t.string({ description: 'The absolute path of a small regular file; read again when it changes.' }),
  }),
});

const HttpHeaderInput = builder.inputType('HttpHeaderInput', {
  description: 'An extra header for every request.',
  fields: (t) => ({
    name: t.string({
      required: true,
      description:
        'An RFC 9110 token, given once, and not one Hookline sets itself (`content-type`, `user-agent`, `authorization`, `webhook-*`, ...).',
    }),
    value: t.string({
      description:
        'Up to 8192 characters, no control characters. May be left out on update for a secret header to keep its stored value.',
    }),
    secret: t.boolean({ description: 'A secret value is stored but never returned.' }),
    valueFrom: t.field({
      type: SecretReferenceInput,
      description:
        'Read the value at send time from an environment variable or a file instead of giving it (operator only); the header is then secret. Not together with value.',
    }),
  }),
});

const HttpAuthInput = builder.inputType('HttpAuthInput', {
  description: "The Authorization header of the webhook's requests. Its secret is write-only.",
  fields: (t) => ({
    type: t.field({ type: HttpAuthTypeEnum, required: true, description: 'Which header, if any.' }),
    username: t.string({ description: 'BASIC only: the username (up to 256 characters, no `:`).' }),
    password: t.string({ description: 'BASIC only: the password (up to 1024 characters); write-only.' }),
    token: t.string({
      description: 'BEARER only: the token (up to 4096 characters, a valid header value); write-only.',
    }),
    passwordFrom: t.field({
      type: SecretReferenceInput,
      description:
        'BASIC only: read the password at send time from an environment variable or a file instead of giving it (operator only). Not together with password.',
    }),
    tokenFrom: t.field({
      type: SecretReferenceInput,
      description:
        'BEARER only: read the token at send time from an environment variable or a file instead of giving it (operator only). Not together with token.',
    }),
  }),
});

const configInputFields = (endpointRequired: boolean) =>
  ((t) => ({
    endpoint: t.string({
      required: endpointRequired,
      description:
        'The absolute http(s) URL to POST to (up to 2048 characters, no credentials in it). Private and loopback addresses only where the operator allows them (TARGET_NOT_ALLOWED otherwise). Moving it to another host asks for httpAuth and secret headers again.',
    }),
    secretKey: t.string({
      description:
        'Signing secret, write-only: `whsec_<base64 of 16+ bytes>` (the key is the decoded bytes) or any other string of 8-1024 characters (the key is its UTF-8 bytes). None: requests are not signed.',
    }),
    secretFrom: t.field({
      type: SecretReferenceInput,
      description:
        'Read the signing secret at send time from an environment variable or a file instead (operator only). Not together with secretKey.',
    }),
    headers: t.field({
      type: [HttpHeaderInput],
      description: 'Extra headers for every request (at most 50); replaces the whole list on update.',
    }),
    timeoutMs: t.int({
      description: 'How long an attempt waits for the answer, in milliseconds: 100-60000, 10000 by default.',
    }),
    httpAuth: t.field({
      type: HttpAuthInput,
      description: 'Basic or Bearer authentication; none by default.',
    }),
    allowInvalidCerts: t.boolean({
      description:
        "Accept an https endpoint's certificate without checking it (self-signed, expired); false by default.",
    }),
    xSignature: t.boolean({
      description:
        "Also sign with Stalwart's `X-Signature: base64(HMAC-SHA256(key, body))`; false by default.",
    }),
    signatureHeader: t.string({
      description:
        'The name of the `sha256=<hex>` signature header, for receivers that expect their own (`X-KubeVision-Signature`, `X-OpenMetadata-Signature`); `X-Hookline-Signature` when left out or null. An RFC 9110 token, and not a header Hookline sets itself (`content-type`, `authorization`, `webhook-signature`, ...) or one of config.headers.',
    }),
    sendToAdmins: t.boolean({ description: SEND_TO_ADMINS }),
    sendToOwners: t.boolean({ description: SEND_TO_OWNERS }),
    sendToFollowers: t.boolean({ description: SEND_TO_FOLLOWERS }),
    template: t.field({
      type: 'JSON',
      description:
        'CUSTOM only: the JSON body (an object or array, up to 64 KiB) with `{{path}}` placeholders such as `{{eventType}}` or `{{data.count}}`; checked when saved.',
    }),
  })) satisfies Parameters<typeof builder.inputType>[1]['fields'];

const WebhookConfigInput = builder.inputType('WebhookConfigInput', {
  description: 'Where and how requests are sent. Secrets are write-only: no query returns them.',
  fields: configInputFields(true),
});
const UpdateWebhookConfigInput = builder.inputType('UpdateWebhookConfigInput', {
  description: 'Fields left out keep their value; null resets one.',
  fields: configInputFields(false),
});

const RetryPolicyInput = builder.inputType('RetryPolicyInput', {
  description: 'When failed deliveries are retried or given up; a field left out keeps its default.',
  fields: (t) => ({
    scheduleSeconds: t.intList({
      description:
        'Delay before each retry, in seconds (at most 20 steps of 1-604800): 60, 300, 900, 3600, 14400, 43200 by default. Empty: no retry.',
    }),
    discardAfterSeconds: t.int({
      description:
        'Discard a delivery not sent within this many seconds (1-2592000) of its creation; never by default.',
    }),
    lossy: t.boolean({
      description: 'Discard a failed delivery at once instead of retrying it; false by default.',
    }),
    throttleMs: t.int({
      description:
        'At most one request per window of this many milliseconds (0-3600000), carrying what arrived meanwhile; 0 (no throttle) by default.',
    }),
  }),
});

const EntityReferenceInput = builder.inputType('EntityReferenceInput', {
  description: 'A user or a team, by name.',
  fields: (t) => ({
    type: t.string({ required: true, description: '`user` or `team`.' }),
    name: t.string({
      required: true,
      description: 'Its name (up to 256 characters); for a user, the name of its API token.',
    }),
    id: t.string({ description: 'Its id in your system, if you want it kept (up to 256 characters).' }),
  }),
});

const webhookInputFields = (create: boolean) =>
  ((t) => ({
    name: t.string({
      required: create,
      description: 'Unique in the tenant: 1-128 letters, digits, `_`, `-` and `.` (CONFLICT when taken).',
    }),
    displayName: t.string({ description: 'A name for people (up to 256 characters).' }),
    description: t.string({ description: 'Free text (up to 10000 characters).' }),
    webhookType: t.field({
      type: WebhookTypeEnum,
      required: create,
      description: "The platform it sends to, which decides the body's format.",
    }),
    enabled: t.boolean({ description: 'Whether it receives and sends events; true by default.' }),
    batchSize: t.int({
      description:
        'Events per request at most, 1-1000; 1 by default. Above 1, requests carry `{"events": [...]}`.',
    }),
    rateLimit: t.int({ description: 'Requests per second at most (1-10000); null for no limit.' }),
    fifo: t.boolean({ description: 'One request at a time, in publish order.' }),
    eventFilters: t.field({
      type: [EventFilterInput],
      description:
        'It receives an event when any filter matches (at most 100); none for every event but operational ones.',
    }),
    eventsPolicy: t.field({
      type: EventsPolicyInput,
      description: 'Event types to let through or keep out before the filters; none by default.',
    }),
    minLevel: t.field({
      type: EventLevelEnum,
      description: 'The lowest event level it receives; every level by default.',
    }),
    config: create
      ? t.field({ type: WebhookConfigInput, required: true, description: 'Where and how requests are sent.' })
      : t.field({
          type: UpdateWebhookConfigInput,
          description: 'Changes to where and how requests are sent.',
        }),
    retryPolicy: t.field({
      type: RetryPolicyInput,
      description: 'When failed deliveries are retried or given up; the default schedule when left out.',
    }),
    owner: t.field({
      type: EntityReferenceInput,
      description: 'Who owns it. A USER owns what it makes, and may name only itself.',
    }),
    tags: t.stringList({ description: 'Tag FQNs (at most 50), kept as a set.' }),
    domain: t.string({ description: 'The business domain it belongs to (up to 256 characters).' }),
    global: t.boolean({
      description:
        'Receive every event of the tenant though a USER owns it. Only an ADMIN may set it; false by default.',
    }),
    verbosity: t.field({
      type: VerbosityEnum,
      description: 'Audit events to receive: MUTATIONS, QUERIES or ALL (Kpow WEBHOOK_VERBOSITY).',
    }),
  })) satisfies Parameters<typeof builder.inputType>[1]['fields'];

export const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  description: 'A new webhook: name, webhookType and config.endpoint are required; the rest has defaults.',
  fields: webhookInputFields(true),
});
const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', {
  description: 'Fields left out keep their value; null clears one that may be empty.',
  fields: webhookInputFields(false),
});

const WebhookFilterInput = builder.inputType('WebhookFilter', {
  description: 'Which webhooks to list; every field set must match.',
  fields: (t) => ({
    status: t.field({ type: [WebhookStatusEnum], description: 'Any of these statuses.' }),
    webhookType: t.field({ type: [WebhookTypeEnum], description: 'Any of these types.' }),
    owner: t.string({ description: 'Owner name.' }),
    domain: t.string({ description: 'This domain, exactly.' }),
    tag: t.string({ description: 'A tagFQN the webhook carries.' }),
    text: t.string({ description: 'Part of the name, display name or description (any case).' }),
    includeDeleted: t.boolean({ defaultValue: false, description: 'Also list soft-deleted webhooks.' }),
  }),
});

// ---- queries and mutations ----------------------------------------------------------------

export const MANAGERS =
  'ADMIN and OPS; a USER for its own webhooks, unless HOOKLINE_USERS_MANAGE_WEBHOOKS is false.';

builder.queryField('webhook', (t) =>
  t.field({
    type: WebhookRef,
    nullable: true,
    description: 'One webhook by id or by name (soft-deleted ones included); null when there is none.',
    args: {
      id: t.arg.id({ description: 'Its id (`wh_…`); give id or name, not both.' }),
      name: t.arg.string({ description: 'Its name; give id or name, not both.' }),
    },
    resolve: (_root, args, ctx) => {
      if ((args.id == null) === (args.name == null)) throw badInput('id', 'give exactly one of id or name');
      return ctx.webhooks.get(
        ctx.principal,
        args.id != null ? { id: idOf('Webhook', args.id) } : { name: args.name as string },
      );
    },
  }),
);

builder.queryField('webhooks', (t) =>
  t.connection(
    {
      type: WebhookRef,
      description:
        'Webhooks in creation order, 20 a page unless first/last says otherwise (100 at most); soft-deleted ones only on request. A USER sees only its own.',
      args: {
        filter: t.arg({ type: WebhookFilterInput, description: 'Which webhooks; all when left out.' }),
      },
      resolve: (_root, args, ctx) => {
        const filter: WebhookFilter = args.filter ?? {};
        return keysetConnection(
          args,
          (page) => ctx.webhooks.list(ctx.principal, filter, page),
          () => ctx.webhooks.count(ctx.principal, filter),
        );
      },
    },
    {
      name: 'WebhookConnection',
      description: 'A page of webhooks.',
      fields: (c) => ({
        totalCount: c.int({
          description: 'All webhooks that match the filter.',
          resolve: (p) => p.totalCount(),
        }),
      }),
    },
    { name: 'WebhookEdge', description: 'A webhook in a page, with its cursor.' },
  ),
);

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: WebhookRef,
    description: `Creates a webhook at version 0.1 and returns it. ${MANAGERS}`,
    args: { input: t.arg({ type: CreateWebhookInput, required: true, description: 'The new webhook.' }) },
    resolve: (_root, { input }, ctx) => ctx.webhooks.create(ctx.principal, input),
  }),
  createWebhooks: t.field({
    type: [WebhookRef],
    description: `Creates all or none: one bad input rejects the whole list (its error carries the \`index\`). ${MANAGERS}`,
    args: {
      inputs: t.arg({ type: [CreateWebhookInput], required: true, description: 'The new webhooks.' }),
    },
    resolve: (_root, { inputs }, ctx) => ctx.webhooks.createMany(ctx.principal, inputs),
  }),
  updateWebhook: t.field({
    type: WebhookRef,
    description: `Changes the fields given and returns the webhook, at a new version when something changed. ${MANAGERS}`,
    args: {
      id: t.arg.id({ required: true, description: 'The webhook (`wh_…`).' }),
      input: t.arg({ type: UpdateWebhookInput, required: true, description: 'The fields to change.' }),
      expectedVersion: t.arg.float({
        description: 'Fail with CONFLICT unless the webhook is at this version.',
      }),
    },
    resolve: (_root, args, ctx) =>
      ctx.webhooks.update(ctx.principal, idOf('Webhook', args.id), args.input, args.expectedVersion),
  }),
  deleteWebhook: t.boolean({
    description: `Soft delete (restorable) unless hard is true, which also removes the history and frees the name. Returns true. ${MANAGERS}`,
    args: {
      id: t.arg.id({ required: true, description: 'The webhook (`wh_…`).' }),
      hard: t.arg.boolean({
        defaultValue: false,
        description: 'Remove it for good, with its versions and deliveries.',
      }),
    },
    resolve: async (_root, args, ctx) => {
      await ctx.webhooks.delete(ctx.principal, idOf('Webhook', args.id), args.hard ?? false);
      return true;
    },
  }),
  rotateWebhookSecret: t.string({
    description: `Sets a new whsec_ signing secret and returns it, once. The previous secret keeps signing beside it for 24 hours. ${MANAGERS}`,
    args: { id: t.arg.id({ required: true, description: 'The webhook (`wh_…`).' }) },
    resolve: (_root, args, ctx) => ctx.webhooks.rotateSecret(ctx.principal, idOf('Webhook', args.id)),
  }),
  restoreWebhook: t.field({
    type: WebhookRef,
    description: `Brings a soft-deleted webhook back, at a new version, and returns it. ${MANAGERS}`,
    args: { id: t.arg.id({ required: true, description: 'The webhook (`wh_…`).' }) },
    resolve: (_root, args, ctx) => ctx.webhooks.restore(ctx.principal, idOf('Webhook', args.id)),
  }),
}));
