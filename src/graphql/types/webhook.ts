import { badInput } from '../../errors.js';
import { encodeGlobalId, idOf } from '../../ids.js';
import {
  type ChangeDescription,
  type EntityReference,
  type EventFilter,
  type EventsPolicy,
  eventLevels,
  type FieldCondition,
  type FilterOp,
  eventsPolicyModes,
  type FailureDetails,
  type FieldChange,
  fullyQualifiedName,
  httpAuthTypes,
  type RetryPolicy,
  type SecretReference,
  signatureHeaderOf,
  type StoredConfig,
  verbosities,
  versionFromSeq,
  type Webhook,
  type WebhookVersion,
  webhookStatuses,
  webhookTypes,
} from '../../webhooks/model.js';
import type { WebhookFilter } from '../../webhooks/repository.js';
import { publicHeaders } from '../../webhooks/view.js';
import { builder } from '../builder.js';
import { keysetConnection } from '../pagination.js';

export const WebhookTypeEnum = builder.enumType('WebhookType', { values: webhookTypes });
export const WebhookStatusEnum = builder.enumType('WebhookStatus', { values: webhookStatuses });
export const EventLevelEnum = builder.enumType('EventLevel', {
  description: 'Severity of an event; a webhook with a minLevel receives only events at or above it.',
  values: eventLevels,
});

// Who else is told of the events a webhook matches (src/events/recipients.ts).
const THROUGH =
  'through the webhooks they own (owner type user), once each, whatever their own filters. Not on a personal webhook unless global.';
const SEND_TO_ADMINS = `Also delivers each matched event to the tenant's ADMINs (its live ADMIN tokens' names), ${THROUGH}`;
const SEND_TO_OWNERS = `Also delivers each matched event to the entity's owners (data.owner / data.owners), ${THROUGH}`;
const SEND_TO_FOLLOWERS = `Also delivers each matched event to the entity's followers (data.followers), ${THROUGH}`;

const EventsPolicyModeEnum = builder.enumType('EventsPolicyMode', { values: eventsPolicyModes });
const HttpAuthTypeEnum = builder.enumType('HttpAuthType', { values: httpAuthTypes });
const VerbosityEnum = builder.enumType('Verbosity', { values: verbosities });

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
  values: Object.fromEntries(
    Object.entries(filterOpDescriptions).map(([op, description]) => [op, { description }]),
  ) as Record<FilterOp, { description: string }>,
});

// ---- output types -------------------------------------------------------------------------

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
    eventTypes: t.exposeStringList('eventTypes', { nullable: true }),
    entities: t.exposeStringList('entities', { nullable: true }),
    clusters: t.exposeStringList('clusters', { nullable: true }),
    namespaces: t.exposeStringList('namespaces', { nullable: true }),
    include: t.exposeStringList('include', { nullable: true }),
    exclude: t.exposeStringList('exclude', { nullable: true }),
    where: t.field({
      type: [FieldConditionRef],
      nullable: true,
      description: 'Conditions on event fields or data paths, all of which must hold.',
      resolve: (f) => f.where ?? null,
    }),
  }),
});

const EventsPolicyRef = builder.objectRef<EventsPolicy>('EventsPolicy').implement({
  fields: (t) => ({
    mode: t.expose('mode', { type: EventsPolicyModeEnum }),
    eventTypes: t.exposeStringList('eventTypes'),
  }),
});

const SecretReferenceRef = builder.objectRef<{ env?: string; file?: string }>('SecretReference').implement({
  description:
    'Where a secret (the signing secret, a Basic password, a Bearer token or a header value) is read from at send time.',
  fields: (t) => ({
    env: t.exposeString('env', { nullable: true }),
    file: t.exposeString('file', { nullable: true }),
  }),
});

const HttpHeaderRef = builder
  .objectRef<{ name: string; value: string | null; secret: boolean; valueFrom?: SecretReference }>(
    'HttpHeader',
  )
  .implement({
    fields: (t) => ({
      name: t.exposeString('name'),
      value: t.exposeString('value', { nullable: true, description: 'Null for a secret header.' }),
      secret: t.exposeBoolean('secret'),
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
      endpoint: t.string({ resolve: ({ config }) => config.endpoint }),
      headers: t.field({ type: [HttpHeaderRef], resolve: ({ webhook }) => publicHeaders(webhook) }),
      timeoutMs: t.int({ resolve: ({ config }) => config.timeoutMs }),
      hasSecret: t.boolean({ resolve: ({ webhook }) => webhook.hasSecret }),
      secretFrom: t.field({
        type: SecretReferenceRef,
        nullable: true,
        resolve: ({ config }) => config.secretFrom,
      }),
      httpAuthType: t.field({ type: HttpAuthTypeEnum, resolve: ({ config }) => config.httpAuthType }),
      httpAuthUsername: t.string({ nullable: true, resolve: ({ config }) => config.httpAuthUsername }),
      httpAuthSecretFrom: t.field({
        type: SecretReferenceRef,
        nullable: true,
        description:
          'Where the Basic password or Bearer token is read at send time (set by passwordFrom or tokenFrom); null when it is stored.',
        resolve: ({ config }) => config.httpAuthSecretFrom ?? null,
      }),
      allowInvalidCerts: t.boolean({ resolve: ({ config }) => config.allowInvalidCerts }),
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
      template: t.field({ type: 'JSON', nullable: true, resolve: ({ config }) => config.template ?? null }),
    }),
  });

const RetryPolicyRef = builder.objectRef<RetryPolicy>('RetryPolicy').implement({
  fields: (t) => ({
    scheduleSeconds: t.exposeIntList('scheduleSeconds', {
      description: 'Delay before each retry, in seconds.',
    }),
    maxAttempts: t.int({
      description: 'The first attempt plus one retry per schedule step.',
      resolve: (p) => p.scheduleSeconds.length + 1,
    }),
    discardAfterSeconds: t.exposeInt('discardAfterSeconds', { nullable: true }),
    lossy: t.exposeBoolean('lossy'),
    throttleMs: t.exposeInt('throttleMs', {
      description:
        "Minimum interval between requests, in milliseconds (0: none): at most one request per window, carrying every event that arrived meanwhile (up to batchSize). A quiet webhook's first event goes at once and opens the window.",
    }),
  }),
});

const FailureDetailsRef = builder.objectRef<FailureDetails>('FailureDetails').implement({
  fields: (t) => ({
    lastFailedAt: t.field({ type: 'DateTime', nullable: true, resolve: (f) => f.lastFailedAt }),
    lastFailedStatusCode: t.exposeInt('lastFailedStatusCode', { nullable: true }),
    lastFailedReason: t.exposeString('lastFailedReason', { nullable: true }),
    nextAttempt: t.field({ type: 'DateTime', nullable: true, resolve: (f) => f.nextAttempt }),
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
  fields: (t) => ({
    id: t.exposeString('id', { nullable: true }),
    type: t.exposeString('type', { description: '`user` or `team`.' }),
    name: t.exposeString('name'),
  }),
});

const TagLabelRef = builder.objectRef<{ tagFQN: string }>('TagLabel').implement({
  fields: (t) => ({ tagFQN: t.exposeString('tagFQN') }),
});

export const FieldChangeRef = builder.objectRef<FieldChange>('FieldChange').implement({
  fields: (t) => ({
    name: t.exposeString('name'),
    oldValue: t.field({ type: 'JSON', nullable: true, resolve: (c) => c.oldValue ?? null }),
    newValue: t.field({ type: 'JSON', nullable: true, resolve: (c) => c.newValue ?? null }),
  }),
});

const ChangeDescriptionRef = builder.objectRef<ChangeDescription>('ChangeDescription').implement({
  fields: (t) => ({
    fieldsAdded: t.field({ type: [FieldChangeRef], resolve: (c) => c.fieldsAdded }),
    fieldsUpdated: t.field({ type: [FieldChangeRef], resolve: (c) => c.fieldsUpdated }),
    fieldsDeleted: t.field({ type: [FieldChangeRef], resolve: (c) => c.fieldsDeleted }),
    previousVersion: t.float({ resolve: (c) => versionFromSeq(c.previousVersionSeq) }),
  }),
});

const WebhookVersionRef = builder.objectRef<WebhookVersion>('WebhookVersion').implement({
  fields: (t) => ({
    version: t.float({ resolve: (v) => versionFromSeq(v.versionSeq) }),
    updatedAt: t.field({ type: 'DateTime', resolve: (v) => v.updatedAt }),
    updatedBy: t.exposeString('updatedBy'),
    changeDescription: t.field({
      type: ChangeDescriptionRef,
      nullable: true,
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
  id: { resolve: (w) => w.id },
  loadOne: (id, ctx) => ctx.webhooks.get(ctx.principal, { id }),
  fields: (t) => ({
    name: t.exposeString('name'),
    fullyQualifiedName: t.string({ resolve: (w) => fullyQualifiedName(w.name) }),
    displayName: t.exposeString('displayName', { nullable: true }),
    description: t.exposeString('description', { nullable: true }),
    webhookType: t.expose('webhookType', { type: WebhookTypeEnum }),
    status: t.expose('status', { type: WebhookStatusEnum }),
    enabled: t.exposeBoolean('enabled'),
    batchSize: t.exposeInt('batchSize'),
    rateLimit: t.exposeInt('rateLimit', {
      nullable: true,
      description: 'Requests per second at most, across every Hookline process; null for no limit.',
    }),
    fifo: t.exposeBoolean('fifo', {
      description:
        'Deliveries go one request at a time in publish order; one awaiting a retry holds back the later ones until it ends.',
    }),
    eventFilters: t.field({ type: [EventFilterRef], resolve: (w) => w.eventFilters }),
    eventsPolicy: t.field({ type: EventsPolicyRef, nullable: true, resolve: (w) => w.eventsPolicy }),
    minLevel: t.field({ type: EventLevelEnum, nullable: true, resolve: (w) => w.minLevel }),
    config: t.field({ type: WebhookConfigRef, resolve: (w) => ({ config: w.config, webhook: w }) }),
    retryPolicy: t.field({ type: RetryPolicyRef, resolve: (w) => w.retryPolicy }),
    failureDetails: t.field({ type: FailureDetailsRef, nullable: true, resolve: (w) => w.failureDetails }),
    owner: t.field({ type: EntityReferenceRef, nullable: true, resolve: (w) => w.owner }),
    tags: t.field({ type: [TagLabelRef], resolve: (w) => w.tags.map((tagFQN) => ({ tagFQN })) }),
    domain: t.exposeString('domain', { nullable: true }),
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
    version: t.float({ resolve: (w) => versionFromSeq(w.versionSeq) }),
    createdAt: t.field({ type: 'DateTime', resolve: (w) => w.createdAt }),
    updatedAt: t.field({ type: 'DateTime', resolve: (w) => w.updatedAt }),
    updatedBy: t.exposeString('updatedBy'),
    href: t.string({
      resolve: (w, _args, ctx) => `${ctx.publicUrl}/webhooks/${encodeGlobalId('Webhook', w.id)}`,
    }),
    changeDescription: t.field({
      type: ChangeDescriptionRef,
      nullable: true,
      resolve: (w) => w.changeDescription,
    }),
    deleted: t.exposeBoolean('deleted'),
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
    eventTypes: t.stringList(),
    entities: t.stringList(),
    clusters: t.stringList(),
    namespaces: t.stringList(),
    include: t.stringList(),
    exclude: t.stringList(),
    where: t.field({
      type: [FieldConditionInput],
      description:
        'Conditions on event fields (entityType, entityFqn, cluster, namespace, level, actor.name) or data.<dotted path>; all must hold (at most 20).',
    }),
  }),
});

const EventsPolicyInput = builder.inputType('EventsPolicyInput', {
  fields: (t) => ({
    mode: t.field({ type: EventsPolicyModeEnum, required: true }),
    eventTypes: t.stringList({ required: true }),
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
  fields: (t) => ({
    name: t.string({ required: true }),
    value: t.string({
      description: 'May be left out on update for a secret header to keep its stored value.',
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
  fields: (t) => ({
    type: t.field({ type: HttpAuthTypeEnum, required: true }),
    username: t.string(),
    password: t.string(),
    token: t.string(),
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
    endpoint: t.string({ required: endpointRequired }),
    secretKey: t.string({ description: 'Signing secret; `whsec_<base64>` or any string. Write-only.' }),
    secretFrom: t.field({ type: SecretReferenceInput }),
    headers: t.field({ type: [HttpHeaderInput] }),
    timeoutMs: t.int(),
    httpAuth: t.field({ type: HttpAuthInput }),
    allowInvalidCerts: t.boolean(),
    xSignature: t.boolean({ description: 'Also sign with `X-Signature: base64(HMAC-SHA256(key, body))`.' }),
    signatureHeader: t.string({
      description:
        'The name of the `sha256=<hex>` signature header, for receivers that expect their own (`X-KubeVision-Signature`, `X-OpenMetadata-Signature`); `X-Hookline-Signature` when left out or null. An RFC 9110 token, and not a header Hookline sets itself (`content-type`, `authorization`, `webhook-signature`, ...) or one of config.headers.',
    }),
    sendToAdmins: t.boolean({ description: SEND_TO_ADMINS }),
    sendToOwners: t.boolean({ description: SEND_TO_OWNERS }),
    sendToFollowers: t.boolean({ description: SEND_TO_FOLLOWERS }),
    template: t.field({ type: 'JSON', description: 'The JSON body of a CUSTOM webhook.' }),
  })) satisfies Parameters<typeof builder.inputType>[1]['fields'];

const WebhookConfigInput = builder.inputType('WebhookConfigInput', { fields: configInputFields(true) });
const UpdateWebhookConfigInput = builder.inputType('UpdateWebhookConfigInput', {
  description: 'Fields left out keep their value; null resets one.',
  fields: configInputFields(false),
});

const RetryPolicyInput = builder.inputType('RetryPolicyInput', {
  fields: (t) => ({
    scheduleSeconds: t.intList(),
    discardAfterSeconds: t.int(),
    lossy: t.boolean(),
    throttleMs: t.int(),
  }),
});

const EntityReferenceInput = builder.inputType('EntityReferenceInput', {
  fields: (t) => ({
    type: t.string({ required: true, description: '`user` or `team`.' }),
    name: t.string({ required: true }),
    id: t.string(),
  }),
});

const webhookInputFields = (create: boolean) =>
  ((t) => ({
    name: t.string({ required: create }),
    displayName: t.string(),
    description: t.string(),
    webhookType: t.field({ type: WebhookTypeEnum, required: create }),
    enabled: t.boolean(),
    batchSize: t.int(),
    rateLimit: t.int({ description: 'Requests per second at most (1-10000); null for no limit.' }),
    fifo: t.boolean({ description: 'One request at a time, in publish order.' }),
    eventFilters: t.field({ type: [EventFilterInput] }),
    eventsPolicy: t.field({ type: EventsPolicyInput }),
    minLevel: t.field({ type: EventLevelEnum }),
    config: create
      ? t.field({ type: WebhookConfigInput, required: true })
      : t.field({ type: UpdateWebhookConfigInput }),
    retryPolicy: t.field({ type: RetryPolicyInput }),
    owner: t.field({ type: EntityReferenceInput }),
    tags: t.stringList(),
    domain: t.string(),
    global: t.boolean({ description: 'Only an ADMIN may set it.' }),
    verbosity: t.field({
      type: VerbosityEnum,
      description: 'Audit events to receive: MUTATIONS, QUERIES or ALL (Kpow WEBHOOK_VERBOSITY).',
    }),
  })) satisfies Parameters<typeof builder.inputType>[1]['fields'];

export const CreateWebhookInput = builder.inputType('CreateWebhookInput', {
  fields: webhookInputFields(true),
});
const UpdateWebhookInput = builder.inputType('UpdateWebhookInput', {
  description: 'Fields left out keep their value; null clears one that may be empty.',
  fields: webhookInputFields(false),
});

const WebhookFilterInput = builder.inputType('WebhookFilter', {
  fields: (t) => ({
    status: t.field({ type: [WebhookStatusEnum] }),
    webhookType: t.field({ type: [WebhookTypeEnum] }),
    owner: t.string({ description: 'Owner name.' }),
    domain: t.string(),
    tag: t.string({ description: 'A tagFQN the webhook carries.' }),
    text: t.string({ description: 'Part of the name, display name or description (any case).' }),
    includeDeleted: t.boolean({ defaultValue: false }),
  }),
});

// ---- queries and mutations ----------------------------------------------------------------

builder.queryField('webhook', (t) =>
  t.field({
    type: WebhookRef,
    nullable: true,
    description: 'One webhook by id or by name (soft-deleted ones included); null when there is none.',
    args: { id: t.arg.id(), name: t.arg.string() },
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
      description: 'Webhooks in creation order, 20 a page unless first/last says otherwise (100 at most).',
      args: { filter: t.arg({ type: WebhookFilterInput }) },
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
      fields: (c) => ({
        totalCount: c.int({
          description: 'All webhooks that match the filter.',
          resolve: (p) => p.totalCount(),
        }),
      }),
    },
    { name: 'WebhookEdge' },
  ),
);

builder.mutationFields((t) => ({
  createWebhook: t.field({
    type: WebhookRef,
    args: { input: t.arg({ type: CreateWebhookInput, required: true }) },
    resolve: (_root, { input }, ctx) => ctx.webhooks.create(ctx.principal, input),
  }),
  createWebhooks: t.field({
    type: [WebhookRef],
    description: 'Creates all or none: one bad input rejects the whole list.',
    args: { inputs: t.arg({ type: [CreateWebhookInput], required: true }) },
    resolve: (_root, { inputs }, ctx) => ctx.webhooks.createMany(ctx.principal, inputs),
  }),
  updateWebhook: t.field({
    type: WebhookRef,
    args: {
      id: t.arg.id({ required: true }),
      input: t.arg({ type: UpdateWebhookInput, required: true }),
      expectedVersion: t.arg.float({
        description: 'Fail with CONFLICT unless the webhook is at this version.',
      }),
    },
    resolve: (_root, args, ctx) =>
      ctx.webhooks.update(ctx.principal, idOf('Webhook', args.id), args.input, args.expectedVersion),
  }),
  deleteWebhook: t.boolean({
    description: 'Soft delete (restorable) unless hard is true, which also removes the history.',
    args: { id: t.arg.id({ required: true }), hard: t.arg.boolean({ defaultValue: false }) },
    resolve: async (_root, args, ctx) => {
      await ctx.webhooks.delete(ctx.principal, idOf('Webhook', args.id), args.hard ?? false);
      return true;
    },
  }),
  rotateWebhookSecret: t.string({
    description:
      'Sets a new whsec_ signing secret and returns it, once. The previous secret keeps signing beside it for 24 hours.',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.webhooks.rotateSecret(ctx.principal, idOf('Webhook', args.id)),
  }),
  restoreWebhook: t.field({
    type: WebhookRef,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.webhooks.restore(ctx.principal, idOf('Webhook', args.id)),
  }),
}));
