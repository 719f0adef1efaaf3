import type { Principal } from '../auth/principal.js';
import type { Database } from '../db/client.js';
import { sqlState } from '../db/client.js';
import { badInput, DomainError, notFound } from '../errors.js';
import { newId } from '../ids.js';
import { applyUpdate, buildWebhook } from './build.js';
import { describeChange } from './changes.js';
import type { Webhook, WebhookVersion } from './model.js';
import { versionFromSeq } from './model.js';
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
  parseCreateWebhook,
  parseUpdateWebhook,
} from './validation.js';
import { snapshotOf } from './view.js';

export interface WebhookServiceDeps {
  database: Database;
  clock?: () => Date;
}

const nameTaken = (name: string, index?: number) =>
  new DomainError('CONFLICT', `a webhook named "${name}" already exists`, {
    field: 'name',
    ...(index === undefined ? {} : { index }),
  });

export type WebhookService = ReturnType<typeof createWebhookService>;

export function createWebhookService({ database, clock = () => new Date() }: WebhookServiceDeps) {
  const { db } = database;

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
    const found = await findWebhook(tx, actor.tenantId, { id }, { forUpdate: true });
    if (!found) throw notFound('webhook');
    return found;
  }

  /** Stores `next` as a new version of `current` when it differs; returns what is now stored. */
  async function commitChange(tx: typeof db, actor: Principal, current: StoredWebhook, next: StoredWebhook) {
    const change = describeChange(current, next);
    if (!change) return current.webhook;
    const now = clock();
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
    return webhook;
  }

  return {
    async create(actor: Principal, input: unknown): Promise<Webhook> {
      const parsed = parseCreateWebhook(input);
      const stored = buildWebhook(parsed, actor, newId(), clock());
      await writing([parsed.name], () => insertWebhooks(db, [stored]));
      return stored.webhook;
    },

    /** All or nothing: every input is validated before anything is written. */
    async createMany(actor: Principal, inputs: unknown[]): Promise<Webhook[]> {
      if (inputs.length > MAX_BULK_WEBHOOKS) {
        throw badInput('inputs', `createWebhooks takes at most ${MAX_BULK_WEBHOOKS} webhooks at once`);
      }
      const now = clock();
      const built = inputs.map((input, index) => {
        try {
          return buildWebhook(parseCreateWebhook(input, index), actor, newId(), now);
        } catch (error) {
          if (error instanceof DomainError && error.extensions.index === undefined) {
            error.extensions.index = index;
          }
          throw error;
        }
      });
      const seen = new Map<string, number>();
      built.forEach(({ webhook }, index) => {
        if (seen.has(webhook.name)) throw nameTaken(webhook.name, index);
        seen.set(webhook.name, index);
      });
      const names = [...seen.keys()];
      await writing(names, () =>
        db.transaction(async (tx) => {
          const [taken] = await existingNames(tx, actor.tenantId, names);
          if (taken !== undefined) throw nameTaken(taken, seen.get(taken));
          await insertWebhooks(tx, built);
        }),
      );
      return built.map((b) => b.webhook);
    },

    async update(actor: Principal, id: string, input: unknown, expectedVersion?: number | null) {
      const patch = parseUpdateWebhook(input);
      return writing([patch.name ?? ''], () =>
        db.transaction(async (tx) => {
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
          return commitChange(tx, actor, current, applyUpdate(current, patch));
        }),
      );
    },

    /** Soft delete hides and keeps the webhook (a new version); hard delete removes it and its history. */
    async delete(actor: Principal, id: string, hard: boolean): Promise<Webhook> {
      return db.transaction(async (tx) => {
        const current = await mustFind(tx, actor, id);
        if (hard) {
          await deleteWebhookRow(tx, actor.tenantId, id);
          return current.webhook;
        }
        const next = { ...current, webhook: { ...current.webhook, deleted: true } };
        return commitChange(tx, actor, current, next);
      });
    },

    async restore(actor: Principal, id: string): Promise<Webhook> {
      return db.transaction(async (tx) => {
        const current = await mustFind(tx, actor, id);
        const next = { ...current, webhook: { ...current.webhook, deleted: false } };
        return commitChange(tx, actor, current, next);
      });
    },

    async get(actor: Principal, by: { id: string } | { name: string }): Promise<Webhook | null> {
      if ('name' in by && !isWebhookName(by.name)) return null;
      return (await findWebhook(db, actor.tenantId, by))?.webhook ?? null;
    },

    list(actor: Principal, filter: WebhookFilter, page: Page) {
      checkWebhookFilter(filter);
      return listWebhooks(db, actor.tenantId, filter, page);
    },

    count: (actor: Principal, filter: WebhookFilter) => countWebhooks(db, actor.tenantId, filter),

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
