import { createHash } from 'node:crypto';
import type { ChangeDescription, FieldChange, Webhook, WebhookSecrets } from '../core/webhook.js';

export const MASK = '********';

/** JSON with sorted keys, so that equal values compare equal whatever their key order. */
export function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${stableJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

const fingerprint = (value: string | undefined) =>
  value ? createHash('sha256').update(value).digest('base64') : null;

interface Tracked {
  /** What decides whether the field changed; may include a hash of a secret. */
  compare: string;
  /** What a client may see of the value. */
  show: unknown;
}

const plain = (value: unknown): Tracked => ({ compare: stableJson(value), show: value ?? null });
const secret = (value: string | undefined): Tracked => ({
  compare: stableJson(fingerprint(value)),
  show: value ? MASK : null,
});

/** The fields that make up a webhook's version, flattened one level as OpenMetadata names them. */
function tracked(w: Webhook, s: WebhookSecrets): Map<string, Tracked> {
  const c = w.config;
  const headerShow = c.headers.map((h) => ({
    name: h.name,
    value: h.secret ? MASK : (h.value ?? null),
    secret: h.secret,
    ...(h.valueFrom ? { valueFrom: h.valueFrom } : {}),
  }));
  const headerCompare = stableJson(
    c.headers.map((h) => ({
      name: h.name,
      value: h.secret ? fingerprint(s.headers?.[h.name.toLowerCase()]) : h.value,
      secret: h.secret,
      valueFrom: h.valueFrom,
    })),
  );
  return new Map<string, Tracked>([
    ['name', plain(w.name)],
    ['displayName', plain(w.displayName)],
    ['description', plain(w.description)],
    ['webhookType', plain(w.webhookType)],
    ['enabled', plain(w.enabled)],
    ['batchSize', plain(w.batchSize)],
    ['rateLimit', plain(w.rateLimit)],
    ['fifo', plain(w.fifo)],
    ['eventFilters', plain(w.eventFilters)],
    ['eventsPolicy', plain(w.eventsPolicy)],
    ['minLevel', plain(w.minLevel)],
    ['config.endpoint', plain(c.endpoint)],
    ['config.headers', { compare: headerCompare, show: headerShow }],
    ['config.timeoutMs', plain(c.timeoutMs)],
    ['config.secretKey', secret(s.secretKey)],
    ['config.secretFrom', plain(c.secretFrom)],
    ['config.httpAuthType', plain(c.httpAuthType)],
    ['config.httpAuthUsername', plain(c.httpAuthUsername)],
    ['config.httpAuthSecret', secret(s.httpAuthSecret)],
    ['config.httpAuthSecretFrom', plain(c.httpAuthSecretFrom ?? null)],
    ['config.allowInvalidCerts', plain(c.allowInvalidCerts)],
    ['config.xSignature', plain(c.xSignature ?? false)],
    ['config.signatureHeader', plain(c.signatureHeader ?? null)],
    ['config.sendToAdmins', plain(c.sendToAdmins)],
    ['config.sendToOwners', plain(c.sendToOwners)],
    ['config.sendToFollowers', plain(c.sendToFollowers)],
    ['config.template', plain(c.template)],
    ['retryPolicy.scheduleSeconds', plain(w.retryPolicy.scheduleSeconds)],
    ['retryPolicy.discardAfterSeconds', plain(w.retryPolicy.discardAfterSeconds)],
    ['retryPolicy.lossy', plain(w.retryPolicy.lossy)],
    ['retryPolicy.throttleMs', plain(w.retryPolicy.throttleMs)],
    ['owner', plain(w.owner)],
    ['domain', plain(w.domain)],
    ['global', plain(w.global)],
    ['verbosity', plain(w.verbosity)],
    ['deleted', plain(w.deleted)],
  ]);
}

const isEmpty = (t: Tracked) => t.show === null;

/**
 * What changed between two states of a webhook, or null when nothing did (an update that
 * changes nothing must not bump the version). Tags are a set: added and removed tags are
 * listed apart, as OpenMetadata does.
 */
export function describeChange(
  before: { webhook: Webhook; secrets: WebhookSecrets },
  after: { webhook: Webhook; secrets: WebhookSecrets },
): ChangeDescription | null {
  const fieldsAdded: FieldChange[] = [];
  const fieldsUpdated: FieldChange[] = [];
  const fieldsDeleted: FieldChange[] = [];
  const old = tracked(before.webhook, before.secrets);
  for (const [name, next] of tracked(after.webhook, after.secrets)) {
    const prev = old.get(name);
    if (!prev || prev.compare === next.compare) continue;
    if (isEmpty(prev)) fieldsAdded.push({ name, newValue: next.show });
    else if (isEmpty(next)) fieldsDeleted.push({ name, oldValue: prev.show });
    else fieldsUpdated.push({ name, oldValue: prev.show, newValue: next.show });
  }
  const oldTags = new Set(before.webhook.tags);
  const newTags = new Set(after.webhook.tags);
  const addedTags = [...newTags].filter((t) => !oldTags.has(t));
  const removedTags = [...oldTags].filter((t) => !newTags.has(t));
  if (addedTags.length) fieldsAdded.push({ name: 'tags', newValue: addedTags.map((tagFQN) => ({ tagFQN })) });
  if (removedTags.length) {
    fieldsDeleted.push({ name: 'tags', oldValue: removedTags.map((tagFQN) => ({ tagFQN })) });
  }
  if (!fieldsAdded.length && !fieldsUpdated.length && !fieldsDeleted.length) return null;
  return { fieldsAdded, fieldsUpdated, fieldsDeleted, previousVersionSeq: before.webhook.versionSeq };
}
