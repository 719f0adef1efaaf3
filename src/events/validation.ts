import { z } from 'zod';
import { jsonOfAtMost, nonEmptyText, parseInput, storableDate } from '../validation.js';
import { eventLevels } from '../core/webhook.js';

const text = nonEmptyText;

const publishEventSchema = z.strictObject({
  eventType: text(256).regex(/^[A-Za-z0-9_.:-]+$/, {
    message: 'may hold only letters, digits, "_", ".", ":" and "-"',
  }),
  entityType: text(256).nullish(),
  entityId: text(512).nullish(),
  entityFqn: text(2048).nullish(),
  cluster: text(256).nullish(),
  namespace: text(256).nullish(),
  tenantId: text(256).nullish(),
  actor: z
    .strictObject({
      name: text(256),
      roles: z.array(text(256)).max(50, { message: 'must have at most 50 roles' }).nullish(),
    })
    .nullish(),
  level: z.enum(eventLevels, { message: `must be one of ${eventLevels.join(', ')}` }).nullish(),
  changedFields: z
    .array(
      z.strictObject({
        name: text(512),
        oldValue: jsonOfAtMost(64 * 1024).optional(),
        newValue: jsonOfAtMost(64 * 1024).optional(),
      }),
    )
    .max(1000, { message: 'must have at most 1000 changed fields' })
    .nullish(),
  data: jsonOfAtMost(256 * 1024).optional(),
  occurredAt: storableDate.nullish(),
  idempotencyKey: text(256).nullish(),
});

export type PublishEventInput = z.infer<typeof publishEventSchema>;

export const parsePublishEvent = (input: unknown, index?: number) =>
  parseInput(publishEventSchema, input, index);
