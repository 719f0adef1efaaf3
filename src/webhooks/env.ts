import { DEFAULT_TENANT, type Principal } from '../core/principal.js';
import type { Config } from '../config.js';
import type { WebhookType } from '../core/webhook.js';
import { ENV_WEBHOOK_NAME, type WebhookService } from './service.js';

const types: Record<'slack' | 'teams' | 'generic', WebhookType> = {
  slack: 'SLACK',
  teams: 'MSTEAMS',
  generic: 'GENERIC',
};

/** The installation acting on itself, as the Kpow set-up does at start. */
const operator: Principal = { tokenId: 'env', name: 'env', role: 'ADMIN', tenantId: DEFAULT_TENANT };

/**
 * Kpow's environment set-up: WEBHOOK_PROVIDER, WEBHOOK_URL and WEBHOOK_VERBOSITY make a
 * global webhook named `env` that receives the API's audit events, and nothing else (its
 * events policy includes no ordinary event type). Run at every start: it is created once,
 * then updated only where the environment changed (an unchanged start makes no new version).
 */
export async function applyEnvWebhook(webhooks: WebhookService, setup: NonNullable<Config['envWebhook']>) {
  const wanted = {
    webhookType: types[setup.provider],
    verbosity: setup.verbosity,
    global: true,
    enabled: true,
    eventsPolicy: { mode: 'INCLUDE', eventTypes: [] },
    description: 'Audit events of the API, set up from WEBHOOK_PROVIDER and WEBHOOK_URL.',
    // Whoever it was, nobody but the operator owns it (the name is reserved for it).
    owner: null,
  };
  const existing = await webhooks.get(operator, { name: ENV_WEBHOOK_NAME });
  if (!existing) {
    return webhooks.create(operator, { name: ENV_WEBHOOK_NAME, ...wanted, config: { endpoint: setup.url } });
  }
  if (existing.deleted) await webhooks.restore(operator, existing.id);
  return webhooks.update(operator, existing.id, { ...wanted, config: { endpoint: setup.url } });
}
