import { roles } from '../../core/principal.js';
import type { ApiToken } from '../../auth/tokens.js';
import { idOf } from '../../ids.js';
import { builder } from '../builder.js';
import { describedValues } from '../enum-values.js';

const roleDescriptions: Record<(typeof roles)[number], string> = {
  ADMIN: 'Everything in its tenant: every webhook (global ones included), events, deliveries and API tokens.',
  OPS: 'Every webhook of its tenant, publishing events and operating deliveries; not tokens, not global webhooks.',
  USER: 'Only the webhooks it owns and their deliveries; its webhooks hear only of entities it owns or follows.',
};
export const RoleEnum = builder.enumType('Role', {
  description: 'What a token may do.',
  values: describedValues(roleDescriptions),
});

const ApiTokenRef = builder.objectRef<ApiToken>('ApiToken');

builder.node(ApiTokenRef, {
  description: 'A bearer token; the token itself is shown once, when it is made, and never stored.',
  id: { resolve: (t) => t.id },
  loadOne: async (id, ctx) => (await ctx.tokens.list(ctx.principal)).find((t) => t.id === id) ?? null,
  fields: (t) => ({
    name: t.exposeString('name', {
      description:
        'Who uses it (a user, a team, a service); the principal of its requests, as `me.principal` shows.',
    }),
    role: t.expose('role', { type: RoleEnum, description: 'What it may do.' }),
    tenantId: t.exposeString('tenantId', { description: 'The tenant whose data it reads and changes.' }),
    bootstrap: t.exposeBoolean('bootstrap', { description: 'The ADMIN token generated at first start.' }),
    createdAt: t.field({ type: 'DateTime', description: 'When it was made.', resolve: (x) => x.createdAt }),
    revokedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it was revoked; null while it works.',
      resolve: (x) => x.revokedAt,
    }),
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
      role: t.expose('role', { type: RoleEnum, description: "The token's role." }),
      tenantId: t.exposeString('tenantId', { description: "The tenant the caller's requests act in." }),
      tokenId: t.id({
        nullable: true,
        description: 'Null for the token of HOOKLINE_ADMIN_TOKEN.',
        resolve: (m) => (m.tokenId === 'env' ? null : `tok_${m.tokenId}`),
      }),
    }),
  });

builder.queryFields((t) => ({
  me: t.field({
    type: MeRef,
    description: 'Who the bearer token of this request is. Every role may call it.',
    resolve: (_root, _args, ctx) => ctx.principal,
  }),
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
      name: t.arg.string({
        required: true,
        description:
          'Who will use it (a user, a team, a service); a USER token owns the webhooks it makes under this name.',
      }),
      role: t.arg({ type: RoleEnum, required: true, description: 'What it may do.' }),
      tenantId: t.arg.string({
        description:
          'Your own tenant when left out; another tenant only for the operator (HOOKLINE_ADMIN_TOKEN or the token generated at first start).',
      }),
    },
    resolve: (_root, args, ctx) => ctx.tokens.create(ctx.principal, args),
  }),
  revokeApiToken: t.boolean({
    description: 'Revokes a token at once: its requests fail and its open subscriptions close (ADMIN).',
    args: { id: t.arg.id({ required: true, description: "The token's id (`tok_…`), from apiTokens." }) },
    resolve: (_root, args, ctx) => ctx.tokens.revoke(ctx.principal, idOf('ApiToken', args.id)),
  }),
}));
