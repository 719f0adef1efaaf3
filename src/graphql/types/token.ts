import { roles } from '../../auth/principal.js';
import type { ApiToken } from '../../auth/tokens.js';
import { idOf } from '../../ids.js';
import { builder } from '../builder.js';

export const RoleEnum = builder.enumType('Role', { values: roles });

const ApiTokenRef = builder.objectRef<ApiToken>('ApiToken');

builder.node(ApiTokenRef, {
  description: 'A bearer token; the token itself is shown once, when it is made, and never stored.',
  id: { resolve: (t) => t.id },
  loadOne: async (id, ctx) => (await ctx.tokens.list(ctx.principal)).find((t) => t.id === id) ?? null,
  fields: (t) => ({
    name: t.exposeString('name'),
    role: t.expose('role', { type: RoleEnum }),
    tenantId: t.exposeString('tenantId'),
    bootstrap: t.exposeBoolean('bootstrap', { description: 'The ADMIN token generated at first start.' }),
    createdAt: t.field({ type: 'DateTime', resolve: (x) => x.createdAt }),
    revokedAt: t.field({ type: 'DateTime', nullable: true, resolve: (x) => x.revokedAt }),
  }),
});

const MeRef = builder
  .objectRef<{ name: string; role: (typeof roles)[number]; tenantId: string; tokenId: string }>('Me')
  .implement({
    description: 'Who the caller is.',
    fields: (t) => ({
      principal: t.exposeString('name', {
        description: 'The name of the token (a user, a team, a service).',
      }),
      role: t.expose('role', { type: RoleEnum }),
      tenantId: t.exposeString('tenantId'),
      tokenId: t.id({
        nullable: true,
        description: 'Null for the token of HOOKLINE_ADMIN_TOKEN.',
        resolve: (m) => (m.tokenId === 'env' ? null : `tok_${m.tokenId}`),
      }),
    }),
  });

builder.queryFields((t) => ({
  me: t.field({ type: MeRef, resolve: (_root, _args, ctx) => ctx.principal }),
  apiTokens: t.field({
    type: [ApiTokenRef],
    description: 'The API tokens of your tenant (ADMIN).',
    resolve: (_root, _args, ctx) => ctx.tokens.list(ctx.principal),
  }),
}));

builder.mutationFields((t) => ({
  createApiToken: t.string({
    description: 'Makes a token and returns it, once; only its hash is kept (ADMIN).',
    args: {
      name: t.arg.string({ required: true }),
      role: t.arg({ type: RoleEnum, required: true }),
      tenantId: t.arg.string({ description: 'Your own tenant when left out.' }),
    },
    resolve: (_root, args, ctx) => ctx.tokens.create(ctx.principal, args),
  }),
  revokeApiToken: t.boolean({
    description: 'Revokes a token at once: its requests fail and its open subscriptions close (ADMIN).',
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.tokens.revoke(ctx.principal, idOf('ApiToken', args.id)),
  }),
}));
