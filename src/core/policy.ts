import { DomainError } from '../errors.js';
import type { Webhook } from './webhook.js';
import type { Principal, Role } from './principal.js';

/**
 * Who may do what: the one place that decides. Services call it for every read and write, so
 * queries, mutations, subscriptions, node(id) and nested fields all get the same answer.
 *
 * ADMIN: everything in its tenant, global webhooks included. OPS: every webhook of its tenant,
 * publishing events, operating deliveries; not tokens, not making webhooks global. USER: only
 * the webhooks it owns (and their deliveries); its webhooks are personal: they get events
 * about entities the user owns or follows, unless an ADMIN makes them global.
 */
export type Action =
  | 'webhooks:create'
  | 'webhooks:makeGlobal'
  | 'events:publish'
  | 'events:readAll'
  | 'events:erase'
  | 'tokens:manage'
  | 'tenants:cross';

const grants: Record<Role, Action[]> = {
  ADMIN: [
    'webhooks:create',
    'webhooks:makeGlobal',
    'events:publish',
    'events:readAll',
    'events:erase',
    'tokens:manage',
  ],
  OPS: ['webhooks:create', 'events:publish', 'events:readAll'],
  USER: ['webhooks:create'],
};

/** The bootstrap ADMIN (HOOKLINE_ADMIN_TOKEN or the generated token) runs the installation. */
const isOperator = (p: Principal) => p.role === 'ADMIN' && (p.tokenId === 'env' || p.bootstrap === true);

export function allows(p: Principal, action: Action): boolean {
  if (action === 'tenants:cross') return isOperator(p);
  return grants[p.role].includes(action);
}

export function demand(p: Principal, action: Action, what: string): void {
  if (!allows(p, action)) throw new DomainError('FORBIDDEN', `a ${p.role} token may not ${what}`);
}

/** The installation's choices that change what a role may do (from the environment). */
export interface PolicySettings {
  /**
   * HOOKLINE_USERS_MANAGE_WEBHOOKS. True (Immuta's rule): a USER manages its own webhooks.
   * False (KubeVision's): only ADMIN and OPS do; a USER keeps reading its own webhooks and
   * their history, and changes nothing.
   */
  usersManageWebhooks: boolean;
}

export const defaultPolicySettings: PolicySettings = { usersManageWebhooks: true };

/**
 * Every write to a webhook, and everything that sends to one on request (testWebhook,
 * retryDelivery, replayDeliveries), is managing it.
 */
export function demandManageWebhooks(p: Principal, settings: PolicySettings, what: string): void {
  if (p.role === 'USER' && !settings.usersManageWebhooks) {
    throw new DomainError(
      'FORBIDDEN',
      `a USER token may not ${what}: this installation lets only ADMIN and OPS manage webhooks`,
    );
  }
}

/**
 * The operator's generated token is the way into the installation: if any ADMIN of the default
 * tenant could revoke it, the operator would be locked out until someone reached the command
 * line. So only the token itself may give it up (`hookline admin-token` replaces it without
 * going through here). HOOKLINE_ADMIN_TOKEN is not a stored token and cannot be revoked at all.
 */
export function demandMayRevoke(p: Principal, token: { id: string; bootstrap: boolean }): void {
  if (token.bootstrap && p.tokenId !== token.id) {
    throw new DomainError(
      'FORBIDDEN',
      'the operator token can be revoked only by itself or by `hookline admin-token`',
      { field: 'id' },
    );
  }
}

/**
 * The webhooks a principal may see and change. Rows outside it do not exist for the caller:
 * a foreign id reads as NOT_FOUND, never FORBIDDEN, so nothing leaks about other tenants or users.
 */
export interface WebhookScope {
  tenantId: string;
  /** Set for a USER: only webhooks owned by this user. */
  ownerName: string | null;
}

export const webhookScope = (p: Principal): WebhookScope => ({
  tenantId: p.tenantId,
  ownerName: p.role === 'USER' ? p.name : null,
});

export const inScope = (scope: WebhookScope, w: Pick<Webhook, 'tenantId' | 'owner'>) =>
  w.tenantId === scope.tenantId &&
  (scope.ownerName === null || (w.owner?.type === 'user' && w.owner.name === scope.ownerName));
