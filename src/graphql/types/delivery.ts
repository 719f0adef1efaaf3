import {
  type Delivery,
  type RecordedAttempt,
  type DeliveryStatus,
  type ErrorKind,
} from '../../core/delivery.js';
import type { WebhookHealth } from '../../deliveries/service.js';
import { badInput } from '../../errors.js';
import { inDateRange } from '../../validation.js';
import { encodeGlobalId, idOf } from '../../ids.js';
import { builder } from '../builder.js';
import { describedValues } from '../enum-values.js';
import { keysetConnection } from '../pagination.js';
import { EventRef, PublishEventInput } from './event.js';
import { CreateWebhookInput, MANAGERS, WebhookRef } from './webhook.js';

export const DeliveryStatusEnum = builder.enumType('DeliveryStatus', {
  description: 'Where a delivery is; SUCCEEDED, FAILED and DISCARDED are final.',
  values: describedValues<DeliveryStatus>({
    PENDING: 'Queued, to be sent when due (a disabled webhook keeps it waiting).',
    IN_FLIGHT: 'Being sent now.',
    SUCCEEDED: 'The endpoint answered 2xx.',
    AWAITING_RETRY: 'An attempt failed; it is tried again at nextAttemptAt.',
    FAILED:
      'Given up: an answer not worth retrying (410 or a 4xx other than 408 and 429), an address or body Hookline may not send, or every retry of the schedule failed.',
    DISCARDED: 'Dropped unsent: the webhook is lossy, or discardAfterSeconds passed.',
  }),
});
const DeliveryErrorKindEnum = builder.enumType('DeliveryErrorKind', {
  description:
    'Why an attempt failed: no answer in time, no connection, a TLS problem, a non-2xx status, a webhook setting that could not be used (a secret variable or file missing), an address Hookline may not send to, or a body larger than HOOKLINE_MAX_REQUEST_BYTES (PAYLOAD_TOO_LARGE: not sent, and not retried).',
  values: describedValues<ErrorKind>({
    TIMEOUT: "No answer within the webhook's timeoutMs; retried.",
    CONNECTION: 'No connection (refused, reset, DNS failure); retried.',
    TLS: 'The TLS handshake or certificate check failed; retried.',
    HTTP_STATUS:
      'The endpoint answered with a status other than 2xx (see responseStatus); 408, 429 and 5xx are retried.',
    CONFIGURATION:
      'A setting could not be used: a secret variable not set or a secret file not readable. Nothing was sent; retried.',
    TARGET_NOT_ALLOWED:
      'The endpoint resolves to an address Hookline may not send to (private, loopback, metadata); not sent, not retried.',
    PAYLOAD_TOO_LARGE: 'The rendered body is larger than HOOKLINE_MAX_REQUEST_BYTES; not sent, not retried.',
  }),
});

export const DeliveryRef = builder.objectRef<Delivery>('Delivery');
export const DeliveryAttemptRef = builder.objectRef<RecordedAttempt>('DeliveryAttempt');

const mustExist = <T>(value: T | null, what: string): T => {
  if (value === null) throw new Error(`${what} disappeared`);
  return value;
};

builder.node(DeliveryRef, {
  description:
    'One event on its way to one webhook. Its id is the `webhook-id` header, the same on every retry.',
  id: { resolve: (d) => d.id },
  loadOne: (id, ctx) => ctx.deliveries.get(ctx.principal, id),
  fields: (t) => ({
    status: t.expose('status', { type: DeliveryStatusEnum, description: 'Where it is.' }),
    attemptCount: t.exposeInt('attemptCount', { description: 'HTTP requests made for it so far.' }),
    nextAttemptAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it is due to be sent next; null once it is final.',
      resolve: (d) => d.nextAttemptAt,
    }),
    lastStatusCode: t.exposeInt('lastStatusCode', {
      nullable: true,
      description: 'The HTTP status of its latest attempt; null before the first or when no answer came.',
    }),
    lastError: t.exposeString('lastError', {
      nullable: true,
      description: 'What went wrong at its latest attempt; null when nothing did.',
    }),
    createdAt: t.field({
      type: 'DateTime',
      description: 'When it was queued (with its event, or by testWebhook).',
      resolve: (d) => d.createdAt,
    }),
    updatedAt: t.field({
      type: 'DateTime',
      description: 'When it last changed.',
      resolve: (d) => d.updatedAt,
    }),
    completedAt: t.field({
      type: 'DateTime',
      nullable: true,
      description: 'When it became SUCCEEDED, FAILED or DISCARDED; null before.',
      resolve: (d) => d.completedAt,
    }),
    event: t.field({
      type: EventRef,
      description: 'The event it carries.',
      resolve: async (d, _args, ctx) => mustExist(await ctx.events.get(ctx.principal, d.eventId), 'event'),
    }),
    webhook: t.field({
      type: WebhookRef,
      description: 'The webhook it goes to.',
      resolve: async (d, _args, ctx) =>
        mustExist(await ctx.webhooks.get(ctx.principal, { id: d.webhookId }), 'webhook'),
    }),
    attempts: t.field({
      type: [DeliveryAttemptRef],
      description: 'Every attempt, oldest first.',
      resolve: (d, _args, ctx) => ctx.deliveries.attempts(d),
    }),
  }),
});

builder.node(DeliveryAttemptRef, {
  description:
    'One HTTP request of a delivery and what came back. Credentials and secret header values are masked.',
  id: { resolve: (a) => a.id },
  loadOne: (id, ctx) => ctx.deliveries.attempt(ctx.principal, id),
  fields: (t) => ({
    attemptNumber: t.exposeInt('attemptNumber', {
      description: 'Which request of its delivery this was: 1 for the first, counting on through retries.',
    }),
    status: t.expose('status', {
      type: DeliveryStatusEnum,
      description: 'The delivery status this attempt led to.',
    }),
    startedAt: t.field({
      type: 'DateTime',
      description: 'When the request began.',
      resolve: (a) => a.startedAt,
    }),
    durationMs: t.exposeInt('durationMs', {
      description: 'Milliseconds from the start of the request to the answer, or to the failure.',
    }),
    requestUrl: t.exposeString('requestUrl', { description: 'The URL requested.' }),
    requestHeaders: t.field({
      type: 'JSON',
      description:
        'The headers sent, as an object of name to value; credentials and secret values show as `********`.',
      resolve: (a) => a.requestHeaders,
    }),
    requestBody: t.string({
      description: 'The body sent (JSON text).',
      resolve: (a, _args, ctx) => ctx.deliveries.requestBody(a),
    }),
    responseStatus: t.exposeInt('responseStatus', {
      nullable: true,
      description: 'The HTTP status of the answer; null when none came.',
    }),
    responseHeaders: t.field({
      type: 'JSON',
      nullable: true,
      description: "The answer's headers, as an object of name to value; null when none came.",
      resolve: (a) => a.responseHeaders,
    }),
    responseBody: t.exposeString('responseBody', {
      nullable: true,
      description: 'The first 4 KiB of the answer; null when none came.',
    }),
    errorKind: t.field({
      type: DeliveryErrorKindEnum,
      nullable: true,
      description: 'Why it failed; null when it succeeded.',
      resolve: (a) => a.errorKind,
    }),
    errorMessage: t.exposeString('errorMessage', {
      nullable: true,
      description: 'What went wrong, in words; null when it succeeded.',
    }),
    delivery: t.field({
      type: DeliveryRef,
      description: 'The delivery it was made for.',
      resolve: async (a, _args, ctx) =>
        mustExist(await ctx.deliveries.get(ctx.principal, a.deliveryId), 'delivery'),
    }),
    deliveryId: t.id({
      description:
        "The delivery's id, as `delivery { id }` gives it but without reading the delivery: cheap for a live log.",
      resolve: (a) => encodeGlobalId('Delivery', a.deliveryId),
    }),
    webhookId: t.id({
      description:
        "The webhook's id, as `webhook { id }` gives it but without reading the webhook: cheap for a live log.",
      resolve: (a) => encodeGlobalId('Webhook', a.webhookId),
    }),
    webhook: t.field({
      type: WebhookRef,
      description: 'The webhook it was sent to.',
      resolve: async (a, _args, ctx) =>
        mustExist(await ctx.webhooks.get(ctx.principal, { id: a.webhookId }), 'webhook'),
    }),
  }),
});

const DeliveryConnection = builder.connectionObject(
  {
    type: DeliveryRef,
    name: 'DeliveryConnection',
    description: 'A page of deliveries.',
    fields: (c) => ({
      totalCount: c.int({ description: 'All deliveries that match.', resolve: (p) => p.totalCount() }),
    }),
  },
  { name: 'DeliveryEdge', description: 'A delivery in a page, with its cursor.' },
);

builder.objectField(EventRef, 'deliveries', (t) =>
  t.field({
    type: [DeliveryRef],
    description: 'The deliveries this event made: one per webhook it matched.',
    resolve: (e, _args, ctx) => ctx.deliveries.ofEvent(ctx.principal, e.id),
  }),
);

builder.objectField(WebhookRef, 'deliveries', (t) =>
  t.connection(
    {
      type: DeliveryRef,
      description: "This webhook's deliveries, newest first, 20 a page unless first/last says otherwise.",
      args: {
        status: t.arg({ type: [DeliveryStatusEnum], description: 'Only those in one of these statuses.' }),
      },
      resolve: (w, args, ctx) => {
        const status = args.status as DeliveryStatus[] | null;
        return keysetConnection(
          args,
          (page) => ctx.webhookDeliveries.list(w.id, status, page),
          () => ctx.webhookDeliveries.count(w.id, status),
        );
      },
    },
    DeliveryConnection,
  ),
);

const WebhookHealthRef = builder.objectRef<WebhookHealth>('WebhookHealth').implement({
  description:
    "How a webhook's delivery attempts went over the last hour (every attempt, retries and tests included).",
  fields: (t) => ({
    since: t.field({
      type: 'DateTime',
      description: 'Start of the window: an hour before the request.',
      resolve: (h) => h.since,
    }),
    attempts: t.exposeInt('attempts', { description: 'Attempts started since then.' }),
    failures: t.int({
      description: 'Those that did not succeed.',
      resolve: (h) => h.attempts - h.succeeded,
    }),
    successRate: t.float({
      nullable: true,
      description: 'The share of those attempts that succeeded, from 0 to 1; null when there was none.',
      resolve: (h) => (h.attempts ? h.succeeded / h.attempts : null),
    }),
    p95DurationMs: t.exposeInt('p95DurationMs', {
      nullable: true,
      description: '95th percentile of their durations in ms (interpolated); null when there was none.',
    }),
  }),
});

builder.objectField(WebhookRef, 'health', (t) =>
  t.field({
    type: WebhookHealthRef,
    description:
      'Success rate and p95 duration of its attempts over the last hour; the webhooks of a page are read together, in one statement.',
    resolve: (w, _args, ctx) => ctx.webhookDeliveries.health(w.id),
  }),
);

/** `since` and `until` of a time range: real dates, in order. */
function checkRange(args: { since?: Date | null; until?: Date | null }) {
  for (const field of ['since', 'until'] as const) {
    const value = args[field];
    if (value && !inDateRange(value))
      throw badInput(field, `${field} must be a date between the years 1 and 9999`);
  }
  if (args.since && args.until && args.since >= args.until)
    throw badInput('until', 'until must be after since');
}

builder.queryFields((t) => ({
  deliveries: t.connection(
    {
      type: DeliveryRef,
      description:
        'Delivery history, newest first, 20 a page unless first/last says otherwise, for one webhook or all, by status. A USER sees only those of its own webhooks.',
      args: {
        webhookId: t.arg.id({ description: 'Only those of this webhook (`wh_…`).' }),
        status: t.arg({ type: [DeliveryStatusEnum], description: 'Only those in one of these statuses.' }),
        since: t.arg({ type: 'DateTime', description: 'Only those created at or after this time.' }),
        until: t.arg({ type: 'DateTime', description: 'Only those created before this time.' }),
      },
      resolve: (_root, args, ctx) => {
        checkRange(args);
        const filter = {
          ...(args.webhookId ? { webhookId: idOf('Webhook', args.webhookId, 'webhookId') } : {}),
          status: args.status as DeliveryStatus[] | null,
          since: args.since ?? null,
          until: args.until ?? null,
        };
        return keysetConnection(
          args,
          (page) => ctx.deliveries.list(ctx.principal, filter, page),
          () => ctx.deliveries.count(ctx.principal, filter),
        );
      },
    },
    DeliveryConnection,
  ),
  delivery: t.field({
    type: DeliveryRef,
    nullable: true,
    description: "One delivery by id; null when there is none or it is not the caller's to see.",
    args: {
      id: t.arg.id({ required: true, description: 'The delivery id (`dlv_…`, the `webhook-id` header).' }),
    },
    resolve: (_root, args, ctx) => ctx.deliveries.get(ctx.principal, idOf('Delivery', args.id)),
  }),
}));

const RenderedRequestRef = builder
  .objectRef<{ url: string; method: string; headers: Record<string, string>; body: string }>(
    'RenderedRequest',
  )
  .implement({
    description:
      'A request as Hookline would send it; credentials and secret header values masked, and every value computed from the signing secret a placeholder.',
    fields: (t) => ({
      url: t.exposeString('url', {
        description:
          "Where it would be sent; DingTalk's `sign` query parameter is `<signature computed at send time>`.",
      }),
      method: t.exposeString('method', { description: 'The HTTP method: POST.' }),
      headers: t.field({
        type: 'JSON',
        description:
          'The headers that would be sent. Basic and Bearer credentials and secret header values show as `********`; the signature headers are present but hold placeholders, never a real signature: `webhook-signature: v1,<signature computed at send time>`, `x-hookline-signature: sha256=<signature computed at send time>` (under the name of config.signatureHeader when the webhook sets one), `x-signature: <signature computed at send time>` (one per signing key).',
        resolve: (r) => r.headers,
      }),
      body: t.exposeString('body', {
        description:
          "The bytes that would be sent, except that Feishu's `sign` field is `<signature computed at send time>`.",
      }),
    }),
  });

builder.queryField('previewPayload', (t) =>
  t.field({
    type: RenderedRequestRef,
    description:
      'The request a webhook would receive for an event, without sending it: a stored event (eventId) or one described as for publishEvent (event). It is never signed: signatures are placeholders (see RenderedRequest), so a preview cannot be replayed to a receiver as a delivery. A body larger than HOOKLINE_MAX_REQUEST_BYTES is refused with BAD_USER_INPUT on event or eventId, as its delivery would fail with PAYLOAD_TOO_LARGE.',
    args: {
      webhookId: t.arg.id({ required: true, description: 'The webhook (`wh_…`).' }),
      event: t.arg({
        type: PublishEventInput,
        description: 'An event as publishEvent takes it; or give eventId.',
      }),
      eventId: t.arg.id({ description: 'A stored event (`evt_…`); or give event.' }),
    },
    resolve: (_root, args, ctx) => {
      if ((args.event == null) === (args.eventId == null))
        throw badInput('event', 'give exactly one of event or eventId');
      const webhookId = idOf('Webhook', args.webhookId, 'webhookId');
      return ctx.deliveries.preview(
        ctx.principal,
        webhookId,
        args.eventId != null ? { eventId: idOf('Event', args.eventId, 'eventId') } : { input: args.event },
      );
    },
  }),
);

builder.queryField('previewNewWebhook', (t) =>
  t.field({
    type: RenderedRequestRef,
    description:
      'The request a webhook with these settings would receive for an event, before it is created: the settings are checked as createWebhook checks them, the request is built as previewPayload builds it (never signed, secrets masked), and nothing is stored or sent.',
    args: {
      webhook: t.arg({
        type: CreateWebhookInput,
        required: true,
        description: 'The settings, as createWebhook takes them.',
      }),
      event: t.arg({
        type: PublishEventInput,
        required: true,
        description: 'An event, as publishEvent takes it.',
      }),
    },
    resolve: (_root, args, ctx) =>
      ctx.deliveries.preview(ctx.principal, ctx.webhooks.draft(ctx.principal, args.webhook), {
        input: args.event,
      }),
  }),
);

builder.mutationFields((t) => ({
  retryDelivery: t.field({
    type: DeliveryRef,
    description: `Queues any finished delivery again, due now, with the same id (\`webhook-id\`), and returns it. ${MANAGERS}`,
    args: { id: t.arg.id({ required: true, description: 'The delivery (`dlv_…`).' }) },
    resolve: (_root, args, ctx) => ctx.deliveries.retry(ctx.principal, idOf('Delivery', args.id)),
  }),
  replayDeliveries: t.int({
    description: `Queues again the finished deliveries of a webhook created in [since, until); returns how many. ${MANAGERS}`,
    args: {
      webhookId: t.arg.id({ required: true, description: 'The webhook (`wh_…`).' }),
      since: t.arg({
        type: 'DateTime',
        description: 'Only those created at or after this time; from the first when left out.',
      }),
      until: t.arg({
        type: 'DateTime',
        description: 'Only those created before this time; up to now when left out.',
      }),
      status: t.arg({
        type: [DeliveryStatusEnum],
        description:
          'Only those in one of these statuses (SUCCEEDED, FAILED, DISCARDED); every finished one when left out.',
      }),
    },
    resolve: (_root, args, ctx) => {
      checkRange(args);
      return ctx.deliveries.replay(ctx.principal, {
        webhookId: idOf('Webhook', args.webhookId, 'webhookId'),
        since: args.since ?? null,
        until: args.until ?? null,
        status: args.status as DeliveryStatus[] | null,
      });
    },
  }),
  testWebhook: t.field({
    type: DeliveryRef,
    description: `Sends a test event to the webhook now, whatever its filters, and returns the finished delivery. A person's check of the endpoint: it goes out at once, outside the queue, to a disabled webhook too (to check a fixed endpoint before enabling it again), not behind the webhook's backlog, throttle or rate limit. It is tried once and recorded as a delivery with its attempt, but leaves the webhook's status and failure details as they are: a success does not enable a DISABLED webhook, a failure does not disable one. One test per webhook is in flight at a time, whichever process serves it: a testWebhook meanwhile sends nothing and answers CONFLICT on \`id\`. ${MANAGERS}`,
    args: { id: t.arg.id({ required: true, description: 'The webhook (`wh_…`).' }) },
    resolve: (_root, args, ctx) => ctx.deliveries.test(ctx.principal, idOf('Webhook', args.id)),
  }),
}));
