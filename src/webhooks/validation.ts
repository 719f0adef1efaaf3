import { z } from 'zod';
import { templateProblem } from '../providers/custom.js';
import { fieldConditions } from './condition-schema.js';
import { jsonOfAtMost, nonEmptyText, parseInput, storable, text } from '../validation.js';
import {
  verbosities,
  eventLevels,
  eventsPolicyModes,
  httpAuthTypes,
  ownerTypes,
  webhookTypes,
} from '../core/webhook.js';

const NAME = /^[A-Za-z0-9_.-]+$/;
// RFC 9110 section 5.6.2: a field name is a token.
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// RFC 9110 section 5.5: visible characters, spaces and tabs inside, none at either end.
const HEADER_VALUE = /^(?:[\x21-\x7e\x80-\xff](?:[\x20-\x7e\x80-\xff\t]*[\x21-\x7e\x80-\xff])?)?$/;
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
// RFC 5234 CTL, which RFC 7617 section 2 forbids in a Basic user-id and password.
const CONTROL = /[\x00-\x1f\x7f]/;

/** Headers Hookline owns on every request: letting a webhook set them would break framing or signatures. */
const reservedHeaders = new Set([
  'host',
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
  'expect',
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'x-hookline-signature',
]);

/**
 * Names a webhook may not give its signature header: the ones above and every other header
 * Hookline writes itself (the body's type, its agent, the credentials, Stalwart's signature).
 */
const ownedHeaders = new Set([
  ...reservedHeaders,
  'content-type',
  'user-agent',
  'authorization',
  'x-signature',
]);

const signatureHeader = z
  .string({ message: 'must be a string' })
  .min(1, { message: 'must not be empty' })
  .max(256, { message: 'must be at most 256 characters' })
  .regex(HEADER_NAME, { message: 'is not a valid HTTP header name (RFC 9110 token)' })
  // Its own default is fine: it is the name the signature has anyway.
  .refine((n) => n.toLowerCase() === 'x-hookline-signature' || !ownedHeaders.has(n.toLowerCase()), {
    message: 'is a header Hookline sets itself',
  });

const int = (min: number, max: number) =>
  z
    .number({ message: 'must be a number' })
    .int({ message: 'must be a whole number' })
    .min(min, { message: `must be from ${min} to ${max}` })
    .max(max, { message: `must be from ${min} to ${max}` });

const oneOf = <T extends readonly [string, ...string[]]>(values: T) =>
  z.enum(values, { message: `must be one of ${values.join(', ')}` });

const stringList = (maxItems: number, maxLength = 256) =>
  z
    .array(nonEmptyText(maxLength), { message: 'must be a list of strings' })
    .max(maxItems, { message: `must have at most ${maxItems} values` });

export const name = z
  .string({ message: 'must be a string' })
  .min(1, { message: 'must be 1 to 128 characters' })
  .max(128, { message: 'must be 1 to 128 characters' })
  .regex(NAME, { message: 'may hold only letters, digits, "_", "-" and "."' });

const endpoint = z
  .string({ message: 'must be a string' })
  .max(2048, { message: 'must be at most 2048 characters' })
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
      } catch {
        return false;
      }
    },
    { message: 'must be an absolute http or https URL' },
  )
  // Credentials in the URL would be shown to everyone who can read the webhook.
  .refine(
    (value) => {
      try {
        const url = new URL(value);
        return url.username === '' && url.password === '';
      } catch {
        return true;
      }
    },
    { message: 'must not hold credentials; set them in config.httpAuth' },
  );

const eventFilter = z.strictObject(
  {
    eventTypes: stringList(100).nullish(),
    entities: stringList(100).nullish(),
    clusters: stringList(100).nullish(),
    namespaces: stringList(100).nullish(),
    include: stringList(100).nullish(),
    exclude: stringList(100).nullish(),
    where: fieldConditions.nullish(),
  },
  { message: 'must be an event filter' },
);

const eventFilters = z
  .array(eventFilter, { message: 'must be a list of event filters' })
  .max(100, { message: 'must have at most 100 filters' });

const eventsPolicy = z.strictObject({
  mode: oneOf(eventsPolicyModes),
  eventTypes: stringList(100),
});

const secretReference = z
  .strictObject({
    env: z.string().regex(ENV_NAME, { message: 'must be an environment variable name' }).nullish(),
    file: z
      .string()
      .max(1024)
      .refine((p) => p.startsWith('/') && storable(p), { message: 'must be an absolute file path' })
      .nullish(),
  })
  .refine((s) => (s.env ? 1 : 0) + (s.file ? 1 : 0) === 1, {
    message: 'must name exactly one of env or file',
  });
const secretFrom = secretReference;

/** A value and a reference are two sources for one secret; naming both is a contradiction. */
const oneSource =
  (value: string, reference: string) => (o: Record<string, unknown>, ctx: z.RefinementCtx) => {
    if (o[value] != null && o[reference] != null) {
      ctx.addIssue({ code: 'custom', path: [reference], message: `cannot be set together with ${value}` });
    }
  };

const header = z
  .strictObject({
    name: z
      .string({ message: 'must be a string' })
      .min(1, { message: 'must not be empty' })
      .max(256, { message: 'must be at most 256 characters' })
      .regex(HEADER_NAME, { message: 'is not a valid HTTP header name (RFC 9110 token)' })
      .refine((n) => !reservedHeaders.has(n.toLowerCase()), {
        message: 'is set by Hookline and cannot be overridden',
      }),
    value: z
      .string({ message: 'must be a string' })
      .max(8192, { message: 'must be at most 8192 characters' })
      .regex(HEADER_VALUE, {
        message: 'is not a valid HTTP header value (no control characters or edge spaces)',
      })
      .nullish(),
    secret: z.boolean({ message: 'must be a boolean' }).nullish(),
    valueFrom: secretReference.nullish(),
  })
  .superRefine((h, ctx) => {
    oneSource('value', 'valueFrom')(h, ctx);
    if (h.valueFrom && h.secret === false) {
      ctx.addIssue({
        code: 'custom',
        path: ['secret'],
        message: 'must not be false for a header read with valueFrom',
      });
    }
  });

const headers = z
  .array(header, { message: 'must be a list of headers' })
  .max(50, { message: 'must have at most 50 headers' })
  .superRefine((list, ctx) => {
    const seen = new Set<string>();
    list.forEach((h, i) => {
      const key = h.name.toLowerCase();
      if (seen.has(key)) {
        ctx.addIssue({ code: 'custom', path: [i, 'name'], message: 'is given more than once' });
      }
      seen.add(key);
    });
  });

const secretKey = z
  .string({ message: 'must be a string' })
  .min(8, { message: 'must be at least 8 characters' })
  .max(1024, { message: 'must be at most 1024 characters' })
  .refine(storable, { message: 'must not contain NUL characters or unpaired surrogates' })
  .refine(
    (s) => {
      if (!s.startsWith('whsec_')) return true;
      const raw = s.slice(6);
      return /^[A-Za-z0-9+/]+={0,2}$/.test(raw) && Buffer.from(raw, 'base64').length >= 16;
    },
    { message: 'a whsec_ secret must hold at least 16 base64-encoded bytes' },
  );

// Credentials are refused when saved rather than failing every send. The messages never hold
// the value: these are secrets (the username aside, but it travels beside the password).
const NO_CONTROL = 'must not contain control characters';
const httpAuth = z
  .strictObject({
    type: oneOf(httpAuthTypes),
    // Basic credentials are base64-encoded, so spaces are fine; control characters are not (RFC 7617).
    username: text(256)
      .refine((s) => !CONTROL.test(s), { message: NO_CONTROL })
      // user-id ":" password has no escape: the receiver would split at the first colon.
      .refine((s) => !s.includes(':'), {
        message: 'must not contain ":" (Basic credentials are user:password)',
      })
      .nullish(),
    password: text(1024)
      .refine((s) => !CONTROL.test(s), { message: NO_CONTROL })
      .nullish(),
    // A Bearer token goes into the Authorization header as it is, so it must be a header value.
    token: text(4096)
      .regex(HEADER_VALUE, {
        message: 'is not a valid HTTP header value (no control characters or edge spaces)',
      })
      .nullish(),
    passwordFrom: secretReference.nullish(),
    tokenFrom: secretReference.nullish(),
  })
  .superRefine((a, ctx) => {
    oneSource('password', 'passwordFrom')(a, ctx);
    oneSource('token', 'tokenFrom')(a, ctx);
    // Accepted and ignored would be a lie: each source belongs to one type.
    if (a.type !== 'BASIC' && a.passwordFrom) {
      ctx.addIssue({ code: 'custom', path: ['passwordFrom'], message: 'is for type BASIC only' });
    }
    if (a.type !== 'BEARER' && a.tokenFrom) {
      ctx.addIssue({ code: 'custom', path: ['tokenFrom'], message: 'is for type BEARER only' });
    }
  });

const template = jsonOfAtMost(64 * 1024)
  .refine((t) => t === null || t === undefined || (typeof t === 'object' && t !== null), {
    message: 'must be a JSON object or array',
  })
  .superRefine((t, ctx) => {
    const problem = t == null ? null : templateProblem(t);
    if (problem) ctx.addIssue({ code: 'custom', message: `is not a usable template: ${problem}` });
  });

const configFields = {
  endpoint,
  secretKey: secretKey.nullish(),
  secretFrom: secretFrom.nullish(),
  headers: headers.nullish(),
  timeoutMs: int(100, 60_000).nullish(),
  httpAuth: httpAuth.nullish(),
  allowInvalidCerts: z.boolean().nullish(),
  xSignature: z.boolean().nullish(),
  signatureHeader: signatureHeader.nullish(),
  sendToAdmins: z.boolean().nullish(),
  sendToOwners: z.boolean().nullish(),
  sendToFollowers: z.boolean().nullish(),
  template: template.nullish(),
};

const retryPolicy = z.strictObject({
  scheduleSeconds: z
    .array(int(1, 604_800), { message: 'must be a list of seconds' })
    .max(20, { message: 'must have at most 20 steps' })
    .nullish(),
  discardAfterSeconds: int(1, 2_592_000).nullish(),
  lossy: z.boolean().nullish(),
  throttleMs: int(0, 3_600_000).nullish(),
});

const owner = z.strictObject({
  type: oneOf(ownerTypes),
  name: nonEmptyText(256),
  id: text(256).nullish(),
});

const tags = z
  .array(nonEmptyText(256), { message: 'must be a list of strings' })
  .max(50, { message: 'must have at most 50 tags' });

const webhookFields = {
  name,
  displayName: text(256).nullish(),
  description: text(10_000).nullish(),
  webhookType: oneOf(webhookTypes),
  enabled: z.boolean().nullish(),
  batchSize: int(1, 1000).nullish(),
  rateLimit: int(1, 10_000).nullish(),
  fifo: z.boolean().nullish(),
  eventFilters: eventFilters.nullish(),
  eventsPolicy: eventsPolicy.nullish(),
  minLevel: oneOf(eventLevels).nullish(),
  retryPolicy: retryPolicy.nullish(),
  owner: owner.nullish(),
  tags: tags.nullish(),
  domain: nonEmptyText(256).nullish(),
  global: z.boolean().nullish(),
  verbosity: oneOf(verbosities).nullish(),
};

// secretKey and secretFrom are two sources for one secret; naming both is a contradiction.
const oneSecretSource = (
  config: { secretKey?: string | null; secretFrom?: unknown } | null | undefined,
  ctx: z.RefinementCtx,
) => {
  if (config?.secretKey && config.secretFrom) {
    ctx.addIssue({
      code: 'custom',
      path: ['config', 'secretFrom'],
      message: 'cannot be set together with secretKey',
    });
  }
};

const createSchema = z
  .strictObject({ ...webhookFields, config: z.strictObject(configFields) })
  .superRefine((w, ctx) => oneSecretSource(w.config, ctx));

const updateSchema = z
  .strictObject({
    ...webhookFields,
    name: name.optional(),
    webhookType: oneOf(webhookTypes).optional(),
    config: z.strictObject({ ...configFields, endpoint: endpoint.optional() }).nullish(),
  })
  .superRefine((w, ctx) => oneSecretSource(w.config, ctx));

export type CreateWebhookInput = z.infer<typeof createSchema>;
export type UpdateWebhookInput = z.infer<typeof updateSchema>;

export const parseCreateWebhook = (input: unknown, index?: number) => parseInput(createSchema, input, index);
export const parseUpdateWebhook = (input: unknown) => parseInput(updateSchema, input);

const webhookFilter = z
  .object({
    status: z.array(z.string()).nullish(),
    webhookType: z.array(z.string()).nullish(),
    owner: text(256).nullish(),
    domain: text(256).nullish(),
    tag: text(256).nullish(),
    text: text(256).nullish(),
    includeDeleted: z.boolean().nullish(),
  })
  .nullish();

/** Filter values go into SQL, so they get the same limits as stored strings. */
export const checkWebhookFilter = (filter: unknown) =>
  parseInput(z.object({ filter: webhookFilter }), { filter });

/** Whether a name could belong to a webhook at all (a lookup by any other name finds nothing). */
export const isWebhookName = (value: string) => name.safeParse(value).success;

export const MAX_BULK_WEBHOOKS = 100;
