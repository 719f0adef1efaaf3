import type { ChangedField, EventActor, HooklineEvent } from '../../core/event.js';
import type { Published } from '../../events/publish.js';
import { idOf } from '../../ids.js';
import { builder } from '../builder.js';
import { EventLevelEnum, FieldChangeRef } from './webhook.js';

const EventActorRef = builder.objectRef<EventActor>('EventActor').implement({
  description: 'Who caused an event, as its producer named them.',
  fields: (t) => ({
    name: t.exposeString('name', { description: 'A user or service name, as the producer gave it.' }),
    roles: t.exposeStringList('roles', {
      description: 'Their roles in the producing system; empty when none were given.',
    }),
  }),
});

export const EventRef = builder.objectRef<HooklineEvent>('Event');

builder.node(EventRef, {
  description: 'Something that happened, as a producer published it.',
  id: { resolve: (e) => e.id },
  loadOne: (id, ctx) => ctx.events.get(ctx.principal, id),
  fields: (t) => ({
    eventType: t.exposeString('eventType', {
      description:
        'What happened, such as `entityUpdated` or `order.paid`; `eventTypes` lists the known ones.',
    }),
    entityType: t.exposeString('entityType', {
      nullable: true,
      description:
        'The kind of thing it happened to (`table`, `topic`, ...); null when the producer gave none.',
    }),
    entityId: t.exposeString('entityId', {
      nullable: true,
      description: "The entity's id in the producing system; null when the producer gave none.",
    }),
    entityFqn: t.exposeString('entityFqn', {
      nullable: true,
      description:
        "The entity's fully qualified name (`service.db.schema.table`); null when the producer gave none.",
    }),
    cluster: t.exposeString('cluster', {
      nullable: true,
      description: 'The cluster it happened in, for filters; null when the producer gave none.',
    }),
    namespace: t.exposeString('namespace', {
      nullable: true,
      description: 'The namespace it happened in, for filters; null when the producer gave none.',
    }),
    tenantId: t.exposeString('tenantId', {
      description: 'The tenant it belongs to; only its webhooks receive it.',
    }),
    actor: t.field({
      type: EventActorRef,
      nullable: true,
      description: 'Who caused it; null when the producer did not say.',
      resolve: (e) => e.actor,
    }),
    level: t.expose('level', {
      type: EventLevelEnum,
      description: 'Its severity (INFO unless the producer set one).',
    }),
    changedFields: t.field({
      type: [FieldChangeRef],
      description: 'The fields that changed, with old and new values; empty when none were given.',
      resolve: (e) => e.changedFields as ChangedField[],
    }),
    data: t.field({
      type: 'JSON',
      nullable: true,
      description:
        'Any JSON the producer attached (up to 256 KiB); GENERIC bodies carry it as `data`. Null when none.',
      resolve: (e) => e.data ?? null,
    }),
    occurredAt: t.field({
      type: 'DateTime',
      description: 'When it happened, as the producer said; when it was published otherwise.',
      resolve: (e) => e.occurredAt,
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When Hookline stored it.',
      resolve: (e) => e.createdAt,
    }),
    idempotencyKey: t.exposeString('idempotencyKey', {
      nullable: true,
      description: 'The key it was published with; null when none.',
    }),
  }),
});

const EventTypeInfoRef = builder
  .objectRef<{ name: string; description: string; builtIn: boolean }>('EventTypeInfo')
  .implement({
    description: 'An event type that filters and eventsPolicy can name.',
    fields: (t) => ({
      name: t.exposeString('name', { description: 'The value of `eventType`.' }),
      description: t.exposeString('description', {
        description: 'What it means; for a published type, when it was first seen.',
      }),
      builtIn: t.exposeBoolean('builtIn', {
        description: 'False for a type first seen in a published event.',
      }),
    }),
  });

const EventActorInput = builder.inputType('EventActorInput', {
  description: 'Who caused the event.',
  fields: (t) => ({
    name: t.string({
      required: true,
      description:
        'A user or service name (1-256 characters); a personal webhook hears of audit events by its owner name.',
    }),
    roles: t.stringList({
      description: 'Their roles in the producing system (at most 50); none when left out.',
    }),
  }),
});

const FieldChangeInput = builder.inputType('FieldChangeInput', {
  description: 'One field of the entity that changed.',
  fields: (t) => ({
    name: t.string({
      required: true,
      description:
        "The field, dotted for a nested one (`columns.description`); filters' include/exclude name it.",
    }),
    oldValue: t.field({
      type: 'JSON',
      description: 'Its value before (any JSON up to 64 KiB); left out when it had none.',
    }),
    newValue: t.field({
      type: 'JSON',
      description: 'Its value after (any JSON up to 64 KiB); left out when it has none.',
    }),
  }),
});

export const PublishEventInput = builder.inputType('PublishEventInput', {
  description: 'An event as a producer describes it; everything but eventType is optional.',
  fields: (t) => ({
    eventType: t.string({
      required: true,
      description:
        'What happened (1-256 letters, digits, `_ . : -`), such as `entityUpdated` or `order.paid`; a new type joins `eventTypes`.',
    }),
    entityType: t.string({
      description: "The kind of thing it happened to (`table`, `topic`, ...); filters' `entities` match it.",
    }),
    entityId: t.string({ description: "The entity's id in your system (up to 512 characters)." }),
    entityFqn: t.string({ description: "The entity's fully qualified name (up to 2048 characters)." }),
    cluster: t.string({ description: "The cluster it happened in; filters' `clusters` match it." }),
    namespace: t.string({ description: "The namespace it happened in; filters' `namespaces` match it." }),
    tenantId: t.string({
      description:
        "The caller's tenant when left out; another tenant only for the operator (HOOKLINE_ADMIN_TOKEN or the token generated at first start).",
    }),
    actor: t.field({ type: EventActorInput, description: 'Who caused it.' }),
    level: t.field({ type: EventLevelEnum, description: 'INFO when left out.' }),
    changedFields: t.field({
      type: [FieldChangeInput],
      description:
        'The fields that changed (at most 1000), shown by chat messages and matched by include/exclude.',
    }),
    data: t.field({
      type: 'JSON',
      description:
        'Any JSON (up to 256 KiB), for templates, conditions (`data.<path>`) and receivers. `owner`, `owners` and `followers` in it say whom a personal webhook serves.',
    }),
    occurredAt: t.field({ type: 'DateTime', description: 'When it happened; now when left out.' }),
    idempotencyKey: t.string({
      description:
        'Up to 256 characters. Publishing the same key again (in the same tenant) returns the first event and creates nothing.',
    }),
  }),
});

builder.queryFields((t) => ({
  event: t.field({
    type: EventRef,
    nullable: true,
    description:
      'One event by id; null when there is none or the caller may not see it (a USER sees only events that reached its own webhooks).',
    args: { id: t.arg.id({ required: true, description: 'The event id (`evt_…`).' }) },
    resolve: (_root, args, ctx) => ctx.events.get(ctx.principal, idOf('Event', args.id)),
  }),
  eventTypes: t.field({
    type: [EventTypeInfoRef],
    description:
      "The event types Hookline knows: the built-in ones, then every other type published so far in the caller's tenant. Every role may call it.",
    resolve: (_root, _args, ctx) => ctx.events.eventTypes(ctx.principal),
  }),
}));

const eventOf = (published: Published) => published.event;

builder.mutationFields((t) => ({
  publishEvent: t.field({
    type: EventRef,
    description:
      'Stores the event and one delivery per matching webhook, in one transaction, and returns it; its `deliveries` are those it made. ADMIN and OPS.',
    args: { input: t.arg({ type: PublishEventInput, required: true, description: 'The event.' }) },
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
    description:
      'Up to 1000 events in one transaction: all stored, or none (one bad input refuses all, with its `index`). Returned in the order given. ADMIN and OPS.',
    args: {
      inputs: t.arg({ type: [PublishEventInput], required: true, description: 'The events, at most 1000.' }),
    },
    resolve: async (_root, { inputs }, ctx) => (await ctx.events.publish(ctx.principal, inputs)).map(eventOf),
  }),
}));
