import { badInput } from '../errors.js';
import {
  defaults,
  type EventFilter,
  type FailureDetails,
  type HeaderSetting,
  hasSecret,
  type RetryPolicy,
  type SecretReference,
  signatureHeaderOf,
  type StoredConfig,
  type Webhook,
  type WebhookSecrets,
} from '../core/webhook.js';
import type { StoredWebhook } from './repository.js';
import type { CreateWebhookInput, UpdateWebhookInput } from './validation.js';

type ConfigInput = NonNullable<UpdateWebhookInput['config']>;
type HeaderInput = NonNullable<ConfigInput['headers']>[number];
type SecretReferenceInput = NonNullable<ConfigInput['httpAuth']>['passwordFrom'];
type FilterInput = NonNullable<CreateWebhookInput['eventFilters']>[number];

const compactFilter = (f: FilterInput): EventFilter =>
  Object.fromEntries(Object.entries(f).filter(([, v]) => v != null)) as EventFilter;

/** Failure details without the probe state once a person has set `enabled` (see disableUnhealthy). */
function personSetEnabled(details: FailureDetails | null, enabled: boolean | null | undefined) {
  if (enabled == null || !details?.probe) return details;
  const { probe: _probe, ...rest } = details;
  return rest;
}

const uniq = (values: string[]) => [...new Set(values)];

/** A reference as stored: the one source it names. */
const reference = (ref: { env?: string | null; file?: string | null }): SecretReference =>
  ref.env ? { env: ref.env } : { file: ref.file as string };

function splitHeaders(
  input: HeaderInput[],
  previous: WebhookSecrets['headers'],
  previousSettings: HeaderSetting[],
): { headers: HeaderSetting[]; secretValues: Record<string, string> } {
  const headers: HeaderSetting[] = [];
  const secretValues: Record<string, string> = {};
  input.forEach((h, i) => {
    const key = h.name.toLowerCase();
    if (h.valueFrom) {
      headers.push({ name: h.name, secret: true, valueFrom: reference(h.valueFrom) });
    } else if (h.secret) {
      // A secret header sent without a value keeps the value (or the reference) stored before,
      // so a client can edit other headers without knowing (or resending) the secret ones.
      const value = h.value ?? previous?.[key];
      const keptFrom =
        h.value == null ? previousSettings.find((p) => p.name.toLowerCase() === key)?.valueFrom : undefined;
      if (keptFrom) {
        headers.push({ name: h.name, secret: true, valueFrom: keptFrom });
        return;
      }
      if (value == null) throw badInput(`config.headers.${i}.value`, `config.headers.${i}.value is required`);
      secretValues[key] = value;
      headers.push({ name: h.name, secret: true });
    } else {
      if (h.value == null)
        throw badInput(`config.headers.${i}.value`, `config.headers.${i}.value is required`);
      headers.push({ name: h.name, value: h.value, secret: false });
    }
  });
  return { headers, secretValues };
}

/** Merges a config patch into a stored config; absent fields stay, null resets a field. */
function mergeConfig(
  current: StoredConfig | null,
  secrets: WebhookSecrets,
  patch: ConfigInput,
): { config: StoredConfig; secrets: WebhookSecrets } {
  const next: WebhookSecrets = { ...secrets };
  const base: StoredConfig = current ?? {
    endpoint: '',
    headers: [],
    timeoutMs: defaults.timeoutMs,
    secretFrom: null,
    httpAuthType: 'NONE',
    httpAuthUsername: null,
    httpAuthSecretFrom: null,
    allowInvalidCerts: false,
    xSignature: false,
    signatureHeader: null,
    sendToAdmins: false,
    sendToOwners: false,
    sendToFollowers: false,
    template: null,
  };
  const config: StoredConfig = { ...base };
  if (patch.endpoint != null) config.endpoint = patch.endpoint;
  // Credentials go to one host: pointing the webhook elsewhere must not carry them along
  // unseen (whoever may edit the endpoint could otherwise collect someone else's token).
  const moved =
    current !== null &&
    patch.endpoint != null &&
    new URL(patch.endpoint).origin !== new URL(current.endpoint).origin;
  if (moved && patch.httpAuth === undefined && base.httpAuthType !== 'NONE') {
    throw badInput(
      'config.httpAuth',
      'config.httpAuth must be given again when the endpoint moves to another host',
    );
  }
  if (moved && patch.headers === undefined && base.headers.some((h) => h.secret)) {
    throw badInput(
      'config.headers',
      'secret headers must be given again when the endpoint moves to another host',
    );
  }
  const keptSecrets = moved ? {} : secrets;

  if (patch.secretKey !== undefined) {
    if (patch.secretKey === null) delete next.secretKey;
    else {
      next.secretKey = patch.secretKey;
      config.secretFrom = null;
    }
  }
  if (patch.secretFrom !== undefined) {
    if (patch.secretFrom === null) config.secretFrom = null;
    else {
      config.secretFrom = reference(patch.secretFrom);
      delete next.secretKey;
    }
  }

  if (patch.headers !== undefined) {
    const { headers, secretValues } = splitHeaders(
      patch.headers ?? [],
      keptSecrets.headers,
      moved ? [] : base.headers,
    );
    config.headers = headers;
    if (Object.keys(secretValues).length) next.headers = secretValues;
    else delete next.headers;
  }

  if (patch.httpAuth !== undefined) {
    const auth = patch.httpAuth ?? { type: 'NONE' as const };
    const sameType = auth.type === base.httpAuthType;
    // The password or token: a value, a reference, or (same type, same host) the one kept.
    const credential = (value: string | null | undefined, from: SecretReferenceInput, field: string) => {
      if (value) return { value, from: null };
      if (from) return { value: undefined, from: reference(from) };
      const keptFrom = sameType && !moved ? (base.httpAuthSecretFrom ?? null) : null;
      const kept = sameType ? keptSecrets.httpAuthSecret : undefined;
      if (keptFrom) return { value: undefined, from: keptFrom };
      if (kept) return { value: kept, from: null };
      throw badInput(`config.httpAuth.${field}`, `config.httpAuth.${field} is required for ${auth.type}`);
    };
    const keep = ({ value, from }: { value: string | undefined; from: SecretReference | null }) => {
      config.httpAuthSecretFrom = from;
      if (value) next.httpAuthSecret = value;
      else delete next.httpAuthSecret;
    };
    if (auth.type === 'NONE') {
      config.httpAuthType = 'NONE';
      config.httpAuthUsername = null;
      config.httpAuthSecretFrom = null;
      delete next.httpAuthSecret;
    } else if (auth.type === 'BASIC') {
      const username = auth.username ?? (sameType ? base.httpAuthUsername : null);
      if (!username)
        throw badInput('config.httpAuth.username', 'config.httpAuth.username is required for BASIC');
      const password = credential(auth.password, auth.passwordFrom, 'password');
      config.httpAuthType = 'BASIC';
      config.httpAuthUsername = username;
      keep(password);
    } else {
      const token = credential(auth.token, auth.tokenFrom, 'token');
      config.httpAuthType = 'BEARER';
      config.httpAuthUsername = null;
      keep(token);
    }
  }

  if (patch.timeoutMs !== undefined) config.timeoutMs = patch.timeoutMs ?? defaults.timeoutMs;
  if (patch.allowInvalidCerts !== undefined) config.allowInvalidCerts = patch.allowInvalidCerts ?? false;
  if (patch.xSignature !== undefined) config.xSignature = patch.xSignature ?? false;
  if (patch.signatureHeader !== undefined) config.signatureHeader = patch.signatureHeader;
  if (patch.sendToAdmins !== undefined) config.sendToAdmins = patch.sendToAdmins ?? false;
  if (patch.sendToOwners !== undefined) config.sendToOwners = patch.sendToOwners ?? false;
  if (patch.sendToFollowers !== undefined) config.sendToFollowers = patch.sendToFollowers ?? false;
  if (patch.template !== undefined) config.template = patch.template ?? null;
  return { config, secrets: next };
}

function mergeRetryPolicy(current: RetryPolicy, patch: UpdateWebhookInput['retryPolicy']): RetryPolicy {
  if (patch === undefined) return current;
  if (patch === null) return { ...defaults.retryPolicy };
  const d = defaults.retryPolicy;
  const pick = <K extends keyof RetryPolicy>(key: K, fallback: RetryPolicy[K]) =>
    patch[key] === undefined ? current[key] : ((patch[key] ?? fallback) as RetryPolicy[K]);
  return {
    scheduleSeconds: pick('scheduleSeconds', d.scheduleSeconds),
    discardAfterSeconds: pick('discardAfterSeconds', null),
    lossy: pick('lossy', false),
    throttleMs: pick('throttleMs', 0),
  };
}

/** Rules that span fields, checked on the merged result so create and update agree. */
/** The notification flags, in the order an error names the first one set. */
const notifyFlags = ['sendToAdmins', 'sendToOwners', 'sendToFollowers'] as const;

function checkWhole(w: Webhook) {
  // Who else is notified is the tenant's call (the flags reach other people's webhooks, the
  // ADMINs' too): a USER's personal webhook hears only of its owner's entities.
  const flag = notifyFlags.find((f) => w.config[f]);
  if (flag && w.personal && !w.global) {
    throw badInput(
      `config.${flag}`,
      `config.${flag} notifies other people; a personal webhook notifies only its owner (an ADMIN may make it global)`,
    );
  }
  if (w.webhookType === 'CUSTOM' && (w.config.template === null || w.config.template === undefined)) {
    throw badInput('config.template', 'config.template is required for a CUSTOM webhook');
  }
  // One header, one value: an extra header of the same name would replace the signature.
  const signature = signatureHeaderOf(w.config).toLowerCase();
  if (w.config.headers.some((h) => h.name.toLowerCase() === signature)) {
    throw badInput(
      'config.signatureHeader',
      `config.signatureHeader names ${signatureHeaderOf(w.config)}, which config.headers sets too`,
    );
  }
}

export interface Actor {
  name: string;
  tenantId: string;
  role: 'ADMIN' | 'OPS' | 'USER';
}

export function buildWebhook(input: CreateWebhookInput, actor: Actor, id: string, now: Date): StoredWebhook {
  const { config, secrets } = mergeConfig(null, {}, input.config);
  const enabled = input.enabled ?? defaults.enabled;
  const webhook: Webhook = {
    id,
    tenantId: actor.tenantId,
    name: input.name,
    displayName: input.displayName ?? null,
    description: input.description ?? null,
    webhookType: input.webhookType,
    status: enabled ? 'ACTIVE' : 'DISABLED',
    enabled,
    batchSize: input.batchSize ?? defaults.batchSize,
    rateLimit: input.rateLimit ?? null,
    fifo: input.fifo ?? defaults.fifo,
    eventFilters: (input.eventFilters ?? []).map(compactFilter),
    eventsPolicy: input.eventsPolicy ?? null,
    minLevel: input.minLevel ?? null,
    config,
    hasSecret: hasSecret(secrets, config),
    retryPolicy: mergeRetryPolicy({ ...defaults.retryPolicy }, input.retryPolicy),
    failureDetails: null,
    owner: input.owner
      ? { type: input.owner.type, name: input.owner.name, id: input.owner.id ?? null }
      : null,
    tags: uniq(input.tags ?? []),
    domain: input.domain ?? null,
    global: input.global ?? false,
    personal: actor.role === 'USER',
    verbosity: input.verbosity ?? null,
    versionSeq: 1,
    changeDescription: null,
    deleted: false,
    createdAt: now,
    updatedAt: now,
    updatedBy: actor.name,
  };
  checkWhole(webhook);
  return { webhook, secrets };
}

/**
 * The webhook after a patch: absent fields stay as they are; null clears a field that may be
 * empty and is ignored for one that may not (clients often send null for "not given").
 */
export function applyUpdate(current: StoredWebhook, patch: UpdateWebhookInput): StoredWebhook {
  const w = current.webhook;
  const keep = <T>(value: T | null | undefined, old: T): T => (value == null ? old : value);
  const clear = <T>(value: T | null | undefined, old: T | null): T | null =>
    value === undefined ? old : value;
  const { config, secrets } = patch.config
    ? mergeConfig(w.config, current.secrets, patch.config)
    : { config: w.config, secrets: current.secrets };
  const enabled = keep(patch.enabled, w.enabled);
  const next: Webhook = {
    ...w,
    name: keep(patch.name, w.name),
    displayName: clear(patch.displayName, w.displayName),
    description: clear(patch.description, w.description),
    webhookType: keep(patch.webhookType, w.webhookType),
    enabled,
    // A webhook marked FAILED (410 Gone) waits for its user: any change starts it again.
    status:
      enabled !== w.enabled ? (enabled ? 'ACTIVE' : 'DISABLED') : w.status === 'FAILED' ? 'ACTIVE' : w.status,
    batchSize: keep(patch.batchSize, w.batchSize),
    rateLimit: clear(patch.rateLimit, w.rateLimit),
    fifo: keep(patch.fifo, w.fifo),
    eventFilters:
      patch.eventFilters === undefined ? w.eventFilters : (patch.eventFilters ?? []).map(compactFilter),
    eventsPolicy: clear(patch.eventsPolicy, w.eventsPolicy),
    minLevel: clear(patch.minLevel, w.minLevel),
    config,
    hasSecret: hasSecret(secrets, config),
    retryPolicy: mergeRetryPolicy(w.retryPolicy, patch.retryPolicy),
    owner:
      patch.owner === undefined
        ? w.owner
        : patch.owner && { type: patch.owner.type, name: patch.owner.name, id: patch.owner.id ?? null },
    tags: patch.tags === undefined ? w.tags : uniq(patch.tags ?? []),
    domain: clear(patch.domain, w.domain),
    global: keep(patch.global, w.global),
    verbosity: clear(patch.verbosity, w.verbosity),
    // Turning a webhook back on gives it a fresh auto-disable window. A person who sets
    // `enabled` either way takes over from the health rule, so its probes stop.
    failureDetails: personSetEnabled(
      enabled && !w.enabled && w.failureDetails
        ? { ...w.failureDetails, failingSince: null }
        : w.failureDetails,
      patch.enabled,
    ),
  };
  checkWhole(next);
  return { webhook: next, secrets };
}
