import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull, type SQL, sql } from 'drizzle-orm';
import type { Database, Db } from '../db/client.js';
import { sqlState } from '../db/client.js';
import { apiTokens } from '../db/schema.js';
import { newId } from '../ids.js';
import { notifyLive } from '../db/notify.js';
import { DEFAULT_TENANT, type Principal, type Role } from '../core/principal.js';

/** 256 random bits; the prefix lets secret scanners recognise a leaked token. */
export const generateToken = () => `hk_${randomBytes(32).toString('base64url')}`;

// A token has 256 bits of entropy, so a fast hash is enough: nobody can brute-force it.
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex');

const BEARER = /^Bearer\s+(\S+)\s*$/i;

export function bearerToken(header: string | null | undefined): string | null {
  const match = header ? BEARER.exec(header) : null;
  return match?.[1] ?? null;
}

export interface Authenticator {
  /** The principal behind an Authorization header value, or null for none or a bad one. */
  authenticate(authorization: string | null | undefined): Promise<Principal | null>;
}

export function createAuthenticator(deps: {
  database: Database;
  adminToken?: string | undefined;
}): Authenticator {
  const adminDigest = deps.adminToken ? createHash('sha256').update(deps.adminToken).digest() : null;
  return {
    async authenticate(authorization) {
      const token = bearerToken(authorization);
      if (!token) return null;
      if (adminDigest) {
        const digest = createHash('sha256').update(token).digest();
        if (timingSafeEqual(digest, adminDigest)) {
          return { tokenId: 'env', name: 'admin', role: 'ADMIN', tenantId: DEFAULT_TENANT };
        }
      }
      const [row] = await deps.database.db
        .select()
        .from(apiTokens)
        .where(and(eq(apiTokens.tokenHash, hashToken(token)), isNull(apiTokens.revokedAt)));
      if (!row) return null;
      return {
        tokenId: row.id,
        name: row.name,
        role: row.role as Role,
        tenantId: row.tenantId,
        bootstrap: row.bootstrap,
      };
    },
  };
}

const bootstrapRow = (token: string) => ({
  id: newId(),
  name: 'admin',
  role: 'ADMIN',
  tenantId: DEFAULT_TENANT,
  tokenHash: hashToken(token),
  bootstrap: true,
});

/**
 * Mints the bootstrap ADMIN token on a database that has none and returns it, to be shown
 * once; returns null when one exists already (it was shown when it was made). The partial
 * unique index makes concurrent first starts agree on a single token.
 */
export async function ensureBootstrapToken(database: Database): Promise<string | null> {
  const [existing] = await database.db
    .select({ id: apiTokens.id })
    .from(apiTokens)
    .where(and(eq(apiTokens.bootstrap, true), isNull(apiTokens.revokedAt)));
  if (existing) return null;
  const token = generateToken();
  try {
    await database.db.insert(apiTokens).values(bootstrapRow(token));
  } catch (error) {
    if (sqlState(error) === '23505') return null;
    throw error;
  }
  return token;
}

/** Revokes the bootstrap token and mints a new one: the way back in when it was lost. */
export async function resetBootstrapToken(database: Database): Promise<string> {
  const token = generateToken();
  await database.db.transaction(async (tx) => {
    const revoked = await tx
      .update(apiTokens)
      .set({ revokedAt: new Date() })
      .where(and(eq(apiTokens.bootstrap, true), isNull(apiTokens.revokedAt)))
      .returning({ id: apiTokens.id, tenantId: apiTokens.tenantId });
    await tx.insert(apiTokens).values(bootstrapRow(token));
    // Its open subscriptions close too, in every running process.
    await notifyLive(
      tx,
      revoked.map((r) => ({ kind: 'tokenRevoked' as const, tenantId: r.tenantId, tokenId: r.id })),
    );
  });
  return token;
}

export interface ApiToken {
  id: string;
  name: string;
  role: Role;
  tenantId: string;
  bootstrap: boolean;
  createdAt: Date;
  revokedAt: Date | null;
}

const tokenFromRow = (row: typeof apiTokens.$inferSelect): ApiToken => ({
  id: row.id,
  name: row.name,
  role: row.role as Role,
  tenantId: row.tenantId,
  bootstrap: row.bootstrap,
  createdAt: row.createdAt,
  revokedAt: row.revokedAt,
});

export async function insertToken(
  database: Database,
  values: { name: string; role: Role; tenantId: string },
): Promise<{ token: string; row: ApiToken }> {
  const token = generateToken();
  const [row] = await database.db
    .insert(apiTokens)
    .values({ id: newId(), ...values, tokenHash: hashToken(token) })
    .returning();
  return { token, row: tokenFromRow(row as typeof apiTokens.$inferSelect) };
}

export async function listTokens(database: Database, tenantId: string): Promise<ApiToken[]> {
  const rows = await database.db.select().from(apiTokens).where(eq(apiTokens.tenantId, tenantId));
  return rows.map(tokenFromRow).sort((a, b) => (a.id < b.id ? -1 : 1));
}

export async function findToken(database: Database, tenantId: string, id: string): Promise<ApiToken | null> {
  const [row] = await database.db
    .select()
    .from(apiTokens)
    .where(and(eq(apiTokens.tenantId, tenantId), eq(apiTokens.id, id)));
  return row ? tokenFromRow(row) : null;
}

/** Marks a token revoked; returns false when it was already. */
export async function revokeToken(db: Db, id: string): Promise<boolean> {
  const rows = await db
    .update(apiTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(apiTokens.id, id), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return rows.length > 0;
}

/**
 * The names of a tenant's ADMINs, as a subquery for a statement that needs them: every live
 * ADMIN token of the tenant (the operator's HOOKLINE_ADMIN_TOKEN is not stored, so not one).
 */
export const adminNames = (tenantId: string): SQL =>
  sql`select ${apiTokens.name} from ${apiTokens}
       where ${apiTokens.tenantId} = ${tenantId} and ${apiTokens.role} = 'ADMIN' and ${apiTokens.revokedAt} is null`;
