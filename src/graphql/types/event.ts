import type { ChangedField, EventActor, HooklineEvent } from '../../events/model.js';
import type { Published } from '../../events/publish.js';
import { idOf } from '../../ids.js';
import { builder } from '../builder.js';
import { EventLevelEnum, FieldChangeRef } from './webhook.js';

const EventActorRef = builder.objectRef<EventActor>('EventActor').implement({
  fields: (t) => ({ name: t.exposeString('name'), roles: t.exposeStringList('roles') }),
});

export const EventRef = builder.objectRef<HooklineEvent>('Event');

builder.node(EventRef, {
  description: 'Something that happened, as a producer published it.',
  id: { resolve: (e) => e.id },
  loadOne: (id, ctx) => ctx.events.get(ctx.principal, id),
  fields: (t) => ({
    eventType: t.exposeString('eventType'),
    entityType: t.exposeString('entityType', { nullable: true }),
    entityId: t.exposeString('entityId', { nullable: true }),
    entityFqn: t.exposeString('entityFqn', { nullable: true }),
    cluster: t.exposeString('cluster', { nullable: true }),
    namespace: t.exposeString('namespace', { nullable: true }),
    tenantId: t.exposeString('tenantId'),
    actor: t.field({ type: EventActorRef, nullable: true, resolve: (e) => e.actor }),
    level: t.expose('level', { type: EventLevelEnum }),
    changedFields: t.field({ type: [FieldChangeRef], resolve: (e) => e.changedFields as ChangedField[] }),
    data: t.field({ type: 'JSON', nullable: true, resolve: (e) => e.data ?? null }),
    occurredAt: t.field({ type: 'DateTime', resolve: (e) => e.occurredAt }),
    createdAt: t.field({ type: 'DateTime', resolve: (e) => e.createdAt }),
    idempotencyKey: t.exposeString('idempotencyKey', { nullable: true }),
  }),
});

const EventTypeInfoRef = builder
  .objectRef<{ name: string; description: string; builtIn: boolean }>('EventTypeInfo')
  .implement({
    fields: (t) => ({
      name: t.exposeString('name'),
      description: t.exposeString('description'),
      builtIn: t.exposeBoolean('builtIn', {
        description: 'False for a type first seen in a published event.',
      }),
    }),
  });

const EventActorInput = builder.inputType('EventActorInput', {
  fields: (t) => ({ name: t.string({ required: true }), roles: t.stringList() }),
});

const FieldChangeInput = builder.inputType('FieldChangeInput', {
  fields: (t) => ({
    name: t.string({ required: true }),
    oldValue: t.field({ type: 'JSON' }),
    newValue: t.field({ type: 'JSON' }),
  }),
});

export const PublishEventInput = builder.inputType('PublishEventInput', {
  fields: (t) => ({
    eventType: t.string({ required: true }),
    entityType: t.string(),
    entityId: t.string(),
    entityFqn: t.string(),
    cluster: t.string(),
    namespace: t.string(),
    tenantId: t.string(),
    actor: t.field({ type: EventActorInput }),
    level: t.field({ type: EventLevelEnum, description: 'INFO when left out.' }),
    changedFields: t.field({ type: [FieldChangeInput] }),
    data: t.field({ type: 'JSON' }),
    occurredAt: t.field({ type: 'DateTime', description: 'When it happened; now when left out.' }),
    idempotencyKey: t.string({
      description: 'Publishing the same key again returns the first event and creates nothing.',
    }),
  }),
});

builder.queryFields((t) => ({
  event: t.field({
    type: EventRef,
    nullable: true,
    args: { id: t.arg.id({ required: true }) },
    resolve: (_root, args, ctx) => ctx.events.get(ctx.principal, idOf('Event', args.id)),
  }),
  eventTypes: t.field({
    type: [EventTypeInfoRef],
    description: 'The event types Hookline knows: the built-in ones and every type published so far.',
    resolve: (_root, _args, ctx) => ctx.events.eventTypes(ctx.principal),
  }),
}));

const eventOf = (published: Published) => published.event;

builder.mutationFields((t) => ({
  publishEvent: t.field({
    type: EventRef,
    description: 'Stores the event and one delivery per matching webhook, in one transaction.',
    args: { input: t.arg({ type: PublishEventInput, required: true }) },
    resolve: async (_root, { input }, ctx) =>
      eventOf((await ctx.events.publish(ctx.principal, [input]))[0] as Published),
  }),
  eraseEventPayload: t.field({
    type: EventRef,
    description:
      "ADMIN only. Erases an event's payload, for a data-protection request: its `data`, the values of its " +
      'changed fields, and the request body of every attempt of its deliveries. Ids, times, statuses and ' +
      "the attempts' other details stay.",
    args: { id: t.arg.id({ required: true, description: 'The event (`evt_…`).' }) },
    resolve: (_root, args, ctx) => ctx.events.erasePayload(ctx.principal, idOf('Event', args.id)),
  }),
  publishEvents: t.field({
    type: [EventRef],
    description: 'Up to 1000 events in one transaction: all stored, or none.',
    args: { inputs: t.arg({ type: [PublishEventInput], required: true }) },
    resolve: async (_root, { inputs }, ctx) => (await ctx.events.publish(ctx.principal, inputs)).map(eventOf),
  }),
}));
