import { randomBytes } from 'node:crypto';
import {
  allows,
  defaultPolicySettings,
  demand,
  demandManageWebhooks,
  type PolicySettings,
  webhookScope,
} from '../core/policy.js';
import type { Principal } from '../core/principal.js';
import type { Database, Db } from '../db/client.js';
import { sqlState } from '../db/client.js';
import { deleteHistoryOfWebhook } from '../deliveries/repository.js';
import { createStatisticsKeeper } from '../db/statistics.js';
import { badInput, DomainError, notFound } from '../errors.js';
import { currentSecret } from '../core/signing.js';
import { assertTargetAllowed, type TargetPolicy } from '../core/targets.js';
import { type NewEvent, WEBHOOK_DISABLED, WEBHOOK_RECOVERED } from '../core/event.js';
import { publishIn } from '../events/publish.js';
import { notifyLive } from '../db/notify.js';
import { encodeGlobalId, newId } from '../ids.js';
import { applyUpdate, buildWebhook } from './build.js';
import { describeChange } from './changes.js';
import type { ChangeDescription, Webhook, WebhookVersion } from '../core/webhook.js';
import { fullyQualifiedName, versionFromSeq } from '../core/webhook.js';
import {
  countWebhooks,
  deleteWebhookRow,
  existingNames,
  findWebhook,
  insertVersion,
  insertWebhooks,
  listVersions,
  listWebhooks,
  type Page,
  replaceWebhook,
  type StoredWebhook,
  type WebhookFilter,
} from './repository.js';
import {
  checkWebhookFilter,
  isWebhookName,
  MAX_BULK_WEBHOOKS,
  type CreateWebhookInput,
  parseCreateWebhook,
  parseUpdateWebhook,
  type UpdateWebhookInput,
} from './validation.js';
import { snapshotOf } from './view.js';

export interface WebhookServiceDeps {
  database: Database;
  /** Endpoints are checked against it when saved (and again, by address, at each send). */
  targets?: TargetPolicy;
  /** Called after every write of webhooks (the process's cache of them forgets). */
  onChange?: () => void;
  clock?: () => Date;
  policy?: PolicySettings;
}

const nameTaken = (name: string, index?: number) =>
  new DomainError('CONFLICT', `a webhook named "${name}" already exists`, {
    field: 'name',
    ...(index === undefined ? {} : { index }),
  });

export type WebhookService = ReturnType<typeof createWebhookService>;

const SECRET_OVERLAP_MS = 24 * 3600 * 1000;

const forbidden = (field: string, message: string, index?: number) =>
  new DomainError('FORBIDDEN', message, { field, ...(index === undefined ? {} : { index }) });

/** The name the Kpow environment set-up owns (see env.ts). */
export const ENV_WEBHOOK_NAME = 'env';

/**
 * What only the installation's operator may set: reading a secret from the server's own
 * environment or files, and the name of the environment webhook.
 */
function checkOperatorOnly(
  actor: Principal,
  input: Pick<UpdateWebhookInput, 'name' | 'config'>,
  index?: number,
) {
  if (allows(actor, 'tenants:cross')) return;
  const config = input.config;
  const references: [unknown, string, string][] = [
    [config?.secretFrom, 'config.secretFrom', 'config.secretKey'],
    [config?.httpAuth?.passwordFrom, 'config.httpAuth.passwordFrom', 'config.httpAuth.password'],
    [config?.httpAuth?.tokenFrom, 'config.httpAuth.tokenFrom', 'config.httpAuth.token'],
    ...(config?.headers ?? []).map(
      (h, i) =>
        [h.valueFrom, `config.headers.${i}.valueFrom`, `config.headers.${i}.value`] as [
          unknown,
          string,
          string,
        ],
    ),
  ];
  for (const [reference, field, instead] of references) {
    if (reference) {
      throw forbidden(
        field,
        `only the operator may read a secret from the environment or a file; use ${instead}`,
        index,
      );
    }
  }
  if (input.name === ENV_WEBHOOK_NAME) {
    throw forbidden('name', `the name "${ENV_WEBHOOK_NAME}" is reserved for the environment set-up`, index);
  }
}

/** A USER owns what it creates; only an ADMIN makes a webhook global. */
function allowedCreate(actor: Principal, input: CreateWebhookInput, index?: number): CreateWebhookInput {
  demand(actor, 'webhooks:create', 'create webhooks');
  checkOperatorOnly(actor, input, index);
  if (input.global && !allows(actor, 'webhooks:makeGlobal')) {
    throw forbidden('global', `a ${actor.role} token may not make a webhook global`, index);
  }
  if (actor.role !== 'USER') return input;
  if (input.owner && !(input.owner.type === 'user' && input.owner.name === actor.name)) {
    throw forbidden('owner', 'a USER token may only create webhooks it owns', index);
  }
  return { ...input, owner: { type: 'user', name: actor.name, id: input.owner?.id ?? null } };
}

function checkUpdateAllowed(actor: Principal, current: Webhook, patch: UpdateWebhookInput) {
  checkOperatorOnly(actor, patch);
  // Once an ADMIN made it global it hears the whole tenant: its endpoint is the ADMIN's call.
  if (actor.role === 'USER' && current.global) {
    throw forbidden('global', 'a USER token may not change a global webhook');
  }
  if (patch.global != null && patch.global !== current.global && !allows(actor, 'webhooks:makeGlobal')) {
    throw forbidden('global', `a ${actor.role} token may not change whether a webhook is global`);
  }
  if (
    actor.role === 'USER' &&
    patch.owner !== undefined &&
    !(patch.owner?.type === 'user' && patch.owner.name === actor.name)
  ) {
    throw forbidden('owner', 'a USER token may not give its webhook away');
  }
}

/** The webhook's own lifecycle is an event like any other (entity type `webhook`). */
function lifecycleEvent(
  eventType: string,
  actor: Principal,
  webhook: Webhook,
  change: ChangeDescription | null,
): NewEvent {
  return {
    eventType,
    entityType: 'webhook',
    entityId: encodeGlobalId('Webhook', webhook.id),
    entityFqn: fullyQualifiedName(webhook.name),
    cluster: null,
    namespace: null,
    actor: { name: actor.name, roles: [actor.role] },
    level: 'INFO',
    changedFields: change
      ? [
          ...change.fieldsAdded.map((f) => ({ name: f.name, newValue: f.newValue })),
          ...change.fieldsUpdated,
          ...change.fieldsDeleted.map((f) => ({ name: f.name, oldValue: f.oldValue })),
        ]
      : [],
    data: snapshotOf(webhook),
    occurredAt: null,
    idempotencyKey: null,
  };
}

/**
 * Stores `next` as a new version of `current` when it differs, and publishes `eventType`
 * about it in the same transaction; returns what is now stored.
 */
async function commitChangeAt(
  tx: Db,
  actor: Principal,
  current: StoredWebhook,
  next: StoredWebhook,
  eventType: string,
  now: Date,
): Promise<Webhook> {
  const change = describeChange(current, next);
  if (!change) {
    // `enabled: false` on a webhook the health rule turned off changes no versioned field, but
    // a person has taken over: its probes stop (failure details are state, not a version).
    if (current.webhook.failureDetails?.probe && !next.webhook.failureDetails?.probe) {
      const webhook = { ...current.webhook, failureDetails: next.webhook.failureDetails };
      await replaceWebhook(tx, { webhook, secrets: current.secrets });
      return webhook;
    }
    return current.webhook;
  }
  await insertVersion(tx, {
    webhookId: current.webhook.id,
    versionSeq: current.webhook.versionSeq,
    snapshot: snapshotOf(current.webhook),
    changeDescription: current.webhook.changeDescription,
    updatedAt: current.webhook.updatedAt,
    updatedBy: current.webhook.updatedBy,
  });
  const webhook: Webhook = {
    ...next.webhook,
    versionSeq: current.webhook.versionSeq + 1,
    changeDescription: change,
    updatedAt: now,
    updatedBy: actor.name,
  };
  await replaceWebhook(tx, { webhook, secrets: next.secrets });
  if (webhook.status !== current.webhook.status) {
    await notifyLive(tx, [
      { kind: 'webhookStatus', tenantId: webhook.tenantId, webhookId: webhook.id, status: webhook.status },
    ]);
  }
  await publishIn(tx, actor.tenantId, [lifecycleEvent(eventType, actor, webhook, change)], now);
  return webhook;
}

/** Hookline itself, as the author of the changes its health rule makes. */
const systemActor = (tenantId: string): Principal => ({
  tokenId: 'system',
  name: 'hookline',
  role: 'ADMIN',
  tenantId,
});

/**
 * The endpoint-health rule turned the webhook off (see core/health.ts): a versioned change
 * by `hookline`, announced as a `webhook.disabled` event in the same transaction. Its
 * deliveries wait, as for any disabled webhook, until a user enables it again or a probe
 * `probeAfterSeconds` from now (see dispatcher/probe.ts) finds it answering. The probe state in
 * its failure details is what tells it from a webhook a person disabled, which is never probed.
 */
export async function disableUnhealthy(
  tx: Db,
  current: StoredWebhook,
  now: Date,
  probeAfterSeconds: number,
): Promise<Webhook> {
  const at = new Date(now.getTime() + probeAfterSeconds * 1000).toISOString();
  const failureDetails = current.webhook.failureDetails ?? {
    lastFailedAt: null,
    lastFailedStatusCode: null,
    lastFailedReason: null,
    nextAttempt: null,
  };
  const next: StoredWebhook = {
    ...current,
    webhook: {
      ...current.webhook,
      enabled: false,
      status: 'DISABLED',
      failureDetails: { ...failureDetails, probe: { at, backoffSeconds: probeAfterSeconds } },
    },
  };
  return commitChangeAt(tx, systemActor(current.webhook.tenantId), current, next, WEBHOOK_DISABLED, now);
}

/**
 * A probe of an auto-disabled webhook succeeded: it is turned on again (ACTIVE, its waiting
 * deliveries go out) with a fresh auto-disable window, a versioned change by `hookline`
 * announced as a `webhook.recovered` event in the same transaction.
 */
export async function recoverWebhook(tx: Db, current: StoredWebhook, now: Date): Promise<Webhook> {
  const details = current.webhook.failureDetails;
  const next: StoredWebhook = {
    ...current,
    webhook: {
      ...current.webhook,
      enabled: true,
      status: 'ACTIVE',
      failureDetails: details && {
        lastFailedAt: details.lastFailedAt,
        lastFailedStatusCode: details.lastFailedStatusCode,
        lastFailedReason: details.lastFailedReason,
        nextAttempt: null,
        failingSince: null,
      },
    },
  };
  return commitChangeAt(tx, systemActor(current.webhook.tenantId), current, next, WEBHOOK_RECOVERED, now);
}

export function createWebhookService({
  database,
  targets,
  onChange,
  clock = () => new Date(),
  policy = defaultPolicySettings,
}: WebhookServiceDeps) {
  const { db } = database;
  const mayManage = (actor: Principal, what: string) => demandManageWebhooks(actor, policy, what);

  /** A write of webhook rows; `onChange` hears of it once it has ended, committed or not. */
  async function changing<T>(work: (tx: Db) => Promise<T>): Promise<T> {
    try {
      return await db.transaction(work);
    } finally {
      onChange?.();
    }
  }
  // Each event's candidate webhooks are read through the GIN match indexes only once the
  // planner knows the table (see analyzeWebhooks): refreshed every 100 new webhooks.
  const statistics = createStatisticsKeeper(database, { tables: ['webhooks'], minChanges: 100, fraction: 0 });

  /** Runs a write; a unique violation on the name (a race with another writer) is a CONFLICT. */
  async function writing<T>(names: string[], work: () => Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (sqlState(error) === '23505')
        throw nameTaken(names.length === 1 ? (names[0] as string) : names.join('", "'));
      throw error;
    }
  }

  async function mustFind(tx: typeof db, actor: Principal, id: string): Promise<StoredWebhook> {
    const found = await findWebhook(tx, webhookScope(actor), { id }, { lock: 'update' });
    if (!found) throw notFound('webhook');
    return found;
  }

  const commitChange = (
    tx: Db,
    actor: Principal,
    current: StoredWebhook,
    next: StoredWebhook,
    eventType = 'entityUpdated',
  ) => commitChangeAt(tx, actor, current, next, eventType, clock());

  return {
    async create(actor: Principal, input: unknown): Promise<Webhook> {
      mayManage(actor, 'create webhooks');
      const parsed = allowedCreate(actor, parseCreateWebhook(input));
      if (targets) await assertTargetAllowed(targets, parsed.config.endpoint);
      const now = clock();
      const stored = buildWebhook(parsed, actor, newId(), now);
      await writing([parsed.name], () =>
        changing(async (tx) => {
          await insertWebhooks(tx, [stored]);
          await publishIn(
            tx,
            actor.tenantId,
            [lifecycleEvent('entityCreated', actor, stored.webhook, null)],
            now,
          );
        }),
      );
      statistics.changed(1);
      return stored.webhook;
    },

    /** All or nothing: every input is validated before anything is written. */
    async createMany(actor: Principal, inputs: unknown[]): Promise<Webhook[]> {
      mayManage(actor, 'create webhooks');
      if (inputs.length > MAX_BULK_WEBHOOKS) {
        throw badInput('inputs', `createWebhooks takes at most ${MAX_BULK_WEBHOOKS} webhooks at once`);
      }
      const now = clock();
      const built = inputs.map((input, index) => {
        try {
          return buildWebhook(
            allowedCreate(actor, parseCreateWebhook(input, index), index),
            actor,
            newId(),
            now,
          );
        } catch (error) {
          if (error instanceof DomainError && error.extensions.index === undefined) {
            error.extensions.index = index;
          }
          throw error;
        }
      });
      if (targets) {
        for (const [index, { webhook }] of built.entries()) {
          await assertTargetAllowed(targets, webhook.config.endpoint).catch((error) => {
            error.extensions.index = index;
            throw error;
          });
        }
      }
      const seen = new Map<string, number>();
      built.forEach(({ webhook }, index) => {
        if (seen.has(webhook.name)) throw nameTaken(webhook.name, index);
        seen.set(webhook.name, index);
      });
      const names = [...seen.keys()];
      await writing(names, () =>
        changing(async (tx) => {
          const [taken] = await existingNames(tx, actor.tenantId, names);
          if (taken !== undefined) throw nameTaken(taken, seen.get(taken));
          await insertWebhooks(tx, built);
          const events = built.map((b) => lifecycleEvent('entityCreated', actor, b.webhook, null));
          await publishIn(tx, actor.tenantId, events, now);
        }),
      );
      statistics.changed(built.length);
      return built.map((b) => b.webhook);
    },

    async update(actor: Principal, id: string, input: unknown, expectedVersion?: number | null) {
      mayManage(actor, 'change webhooks');
      const patch = parseUpdateWebhook(input);
      if (targets && patch.config?.endpoint) await assertTargetAllowed(targets, patch.config.endpoint);
      return writing([patch.name ?? ''], () =>
        changing(async (tx) => {
          const current = await mustFind(tx, actor, id);
          const seq = current.webhook.versionSeq;
          if (expectedVersion != null && Math.abs(expectedVersion * 10 - seq) > 1e-6) {
            throw new DomainError(
              'CONFLICT',
              `webhook is at version ${versionFromSeq(seq)}, not ${expectedVersion}`,
              { field: 'expectedVersion', currentVersion: versionFromSeq(seq) },
            );
          }
          if (current.webhook.deleted) {
            throw new DomainError('CONFLICT', 'webhook is deleted; restore it before changing it', {
              field: 'id',
            });
          }
          checkUpdateAllowed(actor, current.webhook, patch);
          return commitChange(tx, actor, current, applyUpdate(current, patch));
        }),
      );
    },

    /** Soft delete hides and keeps the webhook (a new version); hard delete removes it and its history. */
    async delete(actor: Principal, id: string, hard: boolean): Promise<Webhook> {
      mayManage(actor, 'delete webhooks');
      return changing(async (tx) => {
        const current = await mustFind(tx, actor, id);
        if (hard) {
          await deleteWebhookRow(tx, actor.tenantId, id);
          await deleteHistoryOfWebhook(tx, actor.tenantId, id);
          const gone = lifecycleEvent('entityDeleted', actor, current.webhook, null);
          await publishIn(tx, actor.tenantId, [gone], clock());
          return current.webhook;
        }
        const next = { ...current, webhook: { ...current.webhook, deleted: true } };
        return commitChange(tx, actor, current, next, 'entitySoftDeleted');
      });
    },

    async restore(actor: Principal, id: string): Promise<Webhook> {
      mayManage(actor, 'restore webhooks');
      return changing(async (tx) => {
        const current = await mustFind(tx, actor, id);
        const next = { ...current, webhook: { ...current.webhook, deleted: false } };
        return commitChange(tx, actor, current, next);
      });
    },

    /**
     * A new `whsec_` signing secret, returned once. The previous one keeps signing beside it
     * for 24 hours so receivers can switch without dropping a delivery.
     */
    async rotateSecret(actor: Principal, id: string): Promise<string> {
      mayManage(actor, 'rotate webhook secrets');
      const secret = `whsec_${randomBytes(32).toString('base64')}`;
      // Read before the transaction: a secret file or variable must never hold a row lock.
      const found = await findWebhook(db, webhookScope(actor), { id });
      if (!found) throw notFound('webhook');
      const previous = await currentSecret(found.webhook.config, found.secrets).catch(() => null);
      await changing(async (tx) => {
        const current = await mustFind(tx, actor, id);
        if (current.webhook.deleted) {
          throw new DomainError('CONFLICT', 'webhook is deleted; restore it before changing it', {
            field: 'id',
          });
        }
        if (actor.role === 'USER' && current.webhook.global) {
          throw forbidden('global', 'a USER token may not change a global webhook');
        }
        const now = clock();
        const secrets = {
          ...current.secrets,
          secretKey: secret,
          ...(previous
            ? {
                previousSecretKey: previous,
                previousSecretExpiresAt: new Date(now.getTime() + SECRET_OVERLAP_MS).toISOString(),
              }
            : {}),
        };
        const config = { ...current.webhook.config, secretFrom: null };
        const next = { webhook: { ...current.webhook, config, hasSecret: true }, secrets };
        await commitChange(tx, actor, current, next);
      });
      return secret;
    },

    /**
     * The webhook `create` would store for this input, checked by the same rules, but not
     * stored: what previewNewWebhook renders a request for before the webhook exists.
     */
    draft(actor: Principal, input: unknown): StoredWebhook {
      return buildWebhook(allowedCreate(actor, parseCreateWebhook(input)), actor, newId(), clock());
    },

    async get(actor: Principal, by: { id: string } | { name: string }): Promise<Webhook | null> {
      if ('name' in by && !isWebhookName(by.name)) return null;
      return (await findWebhook(db, webhookScope(actor), by))?.webhook ?? null;
    },

    list(actor: Principal, filter: WebhookFilter, page: Page) {
      checkWebhookFilter(filter);
      return listWebhooks(db, webhookScope(actor), filter, page);
    },

    count: (actor: Principal, filter: WebhookFilter) => countWebhooks(db, webhookScope(actor), filter),

    /** Newest first, the current version included. */
    async versions(webhook: Webhook): Promise<WebhookVersion[]> {
      const older = await listVersions(db, webhook.id);
      const current: WebhookVersion = {
        webhookId: webhook.id,
        versionSeq: webhook.versionSeq,
        snapshot: snapshotOf(webhook),
        changeDescription: webhook.changeDescription,
        updatedAt: webhook.updatedAt,
        updatedBy: webhook.updatedBy,
      };
      return [current, ...older];
    },
  };
}
