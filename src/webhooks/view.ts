import { encodeGlobalId } from '../ids.js';
import { fullyQualifiedName, versionFromSeq, type Webhook } from '../core/webhook.js';

/** Headers as a client may see them: a secret header shows its name, never its value. */
export const publicHeaders = (w: Webhook) =>
  w.config.headers.map((h) => ({
    name: h.name,
    value: h.secret ? null : (h.value ?? null),
    secret: h.secret,
    // Where a secret value is read, as secretFrom shows it: a name or a path, never the value.
    ...(h.valueFrom ? { valueFrom: h.valueFrom } : {}),
  }));

/** The webhook as the API shows it, stored with each version. Holds no secret by construction. */
export function snapshotOf(w: Webhook): Record<string, unknown> {
  const { template, ...config } = w.config;
  return {
    id: encodeGlobalId('Webhook', w.id),
    name: w.name,
    fullyQualifiedName: fullyQualifiedName(w.name),
    displayName: w.displayName,
    description: w.description,
    webhookType: w.webhookType,
    status: w.status,
    enabled: w.enabled,
    batchSize: w.batchSize,
    rateLimit: w.rateLimit,
    fifo: w.fifo,
    eventFilters: w.eventFilters,
    eventsPolicy: w.eventsPolicy,
    minLevel: w.minLevel,
    config: { ...config, headers: publicHeaders(w), hasSecret: w.hasSecret, template: template ?? null },
    retryPolicy: w.retryPolicy,
    owner: w.owner,
    tags: w.tags.map((tagFQN) => ({ tagFQN })),
    domain: w.domain,
    global: w.global,
    personal: w.personal,
    verbosity: w.verbosity,
    version: versionFromSeq(w.versionSeq),
    updatedAt: w.updatedAt.toISOString(),
    updatedBy: w.updatedBy,
    deleted: w.deleted,
  };
}
