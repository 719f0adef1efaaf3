import { z } from 'zod';
import type { Database } from '../db/client.js';
import { DomainError, notFound } from '../errors.js';
import { notifyLive } from '../db/notify.js';
import { nonEmptyText, parseInput } from '../validation.js';
import { allows, demand, demandMayRevoke } from '../core/policy.js';
import { type Principal, roles } from '../core/principal.js';
import { type ApiToken, findToken, insertToken, listTokens, revokeToken } from './tokens.js';

const createTokenInput = z.object({
  name: nonEmptyText(128),
  role: z.enum(roles, { message: `must be one of ${roles.join(', ')}` }),
  tenantId: nonEmptyText(128)
    .regex(/^[A-Za-z0-9_.-]+$/, { message: 'may hold only letters, digits, "_", "-" and "."' })
    .nullish(),
});

export type TokenService = ReturnType<typeof createTokenService>;

/** API tokens: made and revoked by an ADMIN, in its tenant (the operator may name another). */
export function createTokenService({ database }: { database: Database }) {
  return {
    async create(actor: Principal, input: unknown): Promise<string> {
      demand(actor, 'tokens:manage', 'manage API tokens');
      const parsed = parseInput(createTokenInput, input);
      const tenantId = parsed.tenantId ?? actor.tenantId;
      if (tenantId !== actor.tenantId && !allows(actor, 'tenants:cross')) {
        throw new DomainError('FORBIDDEN', 'tokens can only be made for your own tenant', {
          field: 'tenantId',
        });
      }
      return (await insertToken(database, { name: parsed.name, role: parsed.role, tenantId })).token;
    },

    list(actor: Principal): Promise<ApiToken[]> {
      demand(actor, 'tokens:manage', 'manage API tokens');
      return listTokens(database, actor.tenantId);
    },

    /**
     * Revokes a token. Requests with it fail from now on; its open subscriptions, in every
     * process, are closed on the NOTIFY that travels with the revocation.
     */
    async revoke(actor: Principal, id: string): Promise<boolean> {
      demand(actor, 'tokens:manage', 'manage API tokens');
      const token = await findToken(database, actor.tenantId, id);
      if (!token) throw notFound('token');
      demandMayRevoke(actor, token);
      return database.db.transaction(async (tx) => {
        const revoked = await revokeToken(tx, id);
        await notifyLive(tx, [{ kind: 'tokenRevoked', tenantId: token.tenantId, tokenId: id }]);
        return revoked || token.revokedAt !== null;
      });
    },
  };
}
