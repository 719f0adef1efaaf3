import type { DeliveryStatus } from '../../core/delivery.js';
import { idOf } from '../../ids.js';
import { builder } from '../builder.js';
import { DeliveryAttemptRef, DeliveryStatusEnum } from './delivery.js';
import { WebhookRef } from './webhook.js';

builder.subscriptionType({
  description:
    'Live streams over graphql-ws (WebSocket, `connectionParams.authorization`) or Server-Sent Events on /graphql, authorised as queries are: a USER hears only of its own webhooks.',
});

builder.subscriptionFields((t) => ({
  deliveryLogs: t.field({
    type: DeliveryAttemptRef,
    description:
      'Every delivery attempt as soon as it is recorded, by any Hookline process; for one webhook or all, by the status the attempt led to.',
    args: {
      webhookId: t.arg.id({ description: 'Only attempts for this webhook (`wh_…`); all when left out.' }),
      status: t.arg({
        type: [DeliveryStatusEnum],
        description: 'Only attempts that led to one of these statuses; all when left out.',
      }),
    },
    subscribe: (_root, args, ctx) =>
      ctx.live.deliveryLogs(
        ctx.principal,
        {
          webhookId: args.webhookId ? idOf('Webhook', args.webhookId, 'webhookId') : null,
          status: args.status as DeliveryStatus[] | null,
        },
        ctx.disconnect,
      ),
    resolve: (attempt) => attempt,
  }),
  webhookStatusChanged: t.field({
    type: WebhookRef,
    description: 'A webhook each time its status changes (ACTIVE, AWAITING_RETRY, FAILED, ...).',
    args: { webhookId: t.arg.id({ description: 'Only this webhook (`wh_…`); all when left out.' }) },
    subscribe: (_root, args, ctx) =>
      ctx.live.webhookStatusChanged(
        ctx.principal,
        { webhookId: args.webhookId ? idOf('Webhook', args.webhookId, 'webhookId') : null },
        ctx.disconnect,
      ),
    resolve: (webhook) => webhook,
  }),
}));
