import type { DeliveryStatus } from '../../deliveries/model.js';
import { idOf } from '../../ids.js';
import { builder } from '../builder.js';
import { DeliveryAttemptRef, DeliveryStatusEnum } from './delivery.js';
import { WebhookRef } from './webhook.js';

builder.subscriptionType({});

builder.subscriptionFields((t) => ({
  deliveryLogs: t.field({
    type: DeliveryAttemptRef,
    description:
      'Every delivery attempt as soon as it is recorded, by any Hookline process; for one webhook or all, by the status the attempt led to.',
    args: { webhookId: t.arg.id(), status: t.arg({ type: [DeliveryStatusEnum] }) },
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
    args: { webhookId: t.arg.id() },
    subscribe: (_root, args, ctx) =>
      ctx.live.webhookStatusChanged(
        ctx.principal,
        { webhookId: args.webhookId ? idOf('Webhook', args.webhookId, 'webhookId') : null },
        ctx.disconnect,
      ),
    resolve: (webhook) => webhook,
  }),
}));
