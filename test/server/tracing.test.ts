import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { afterEach, describe, it } from 'node:test';
import { parseConfig } from '../../src/config.js';
import { createWebhook } from '../helpers/api.js';
import { backends } from '../helpers/db.js';
import { eventually, type Receiver, startReceiver } from '../helpers/receiver.js';
import { ADMIN_TOKEN, startServer, type TestServer } from '../helpers/server.js';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  links?: { traceId: string; spanId: string }[];
  attributes: Record<string, unknown>;
  service: unknown;
}

type AnyValue = { stringValue?: string; intValue?: number | string; boolValue?: boolean; arrayValue?: any };
const valueOf = (v: AnyValue): unknown =>
  v.stringValue ??
  (v.intValue !== undefined ? Number(v.intValue) : undefined) ??
  v.boolValue ??
  v.arrayValue?.values?.map(valueOf);
const attributesOf = (list: { key: string; value: AnyValue }[] = []) =>
  Object.fromEntries(list.map(({ key, value }) => [key, valueOf(value)]));

/** Every span the OTLP/HTTP JSON receiver was sent, flattened. */
function spansOf(otlp: Receiver): OtlpSpan[] {
  return otlp.received
    .filter((r) => r.path === '/v1/traces')
    .flatMap((r) =>
      (r.json?.resourceSpans ?? []).flatMap((rs: any) => {
        const service = attributesOf(rs.resource?.attributes)['service.name'];
        return rs.scopeSpans.flatMap((ss: any) =>
          ss.spans.map((s: any) => ({ ...s, attributes: attributesOf(s.attributes), service })),
        );
      }),
    );
}

const hex = (bytes: number) => randomBytes(bytes).toString('hex');

async function publishWith(server: TestServer, headers: Record<string, string>, eventType: string) {
  const res = await fetch(`${server.url}/graphql`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN_TOKEN}`, ...headers },
    body: JSON.stringify({
      query: 'mutation Publish($input: PublishEventInput!) { publishEvent(input: $input) { id } }',
      variables: { input: { eventType, entityId: 'traced-1' } },
    }),
    signal: AbortSignal.timeout(20_000),
  });
  const body = (await res.json()) as { data?: { publishEvent: { id: string } }; errors?: unknown };
  assert.equal(body.errors, undefined, JSON.stringify(body.errors));
  return body.data?.publishEvent.id as string;
}

for (const backend of backends()) {
  describe(`tracing (${backend.name})`, () => {
    const running: { stop(): Promise<void> }[] = [];
    const receivers: Receiver[] = [];
    afterEach(async () => {
      for (const s of running.splice(0)) await s.stop();
      for (const r of receivers.splice(0)) await r.close();
    });

    /** An OTLP/HTTP collector on 127.0.0.1 that keeps what it is sent. */
    const collector = async () => {
      const otlp = await startReceiver((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
      receivers.push(otlp);
      return otlp;
    };

    it('continues the publishing request’s trace into the deliveries’ requests and exports the spans', async () => {
      const otlp = await collector();
      const handed = await startReceiver();
      const claimed = await startReceiver();
      receivers.push(handed, claimed);
      const server = await startServer(backend, {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/json',
        OTEL_SERVICE_NAME: 'hookline-test',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      });
      running.push(server);
      // One webhook gets its delivery straight from the publish; a FIFO one waits for a claim
      // round, which reads the event (and its traceparent) back from the database.
      const handedId = await createWebhook(server, {
        config: { endpoint: `${handed.url}/hook` },
        eventFilters: [{ eventTypes: ['traced'] }],
      });
      const claimedId = await createWebhook(server, {
        config: { endpoint: `${claimed.url}/hook` },
        eventFilters: [{ eventTypes: ['traced'] }],
        fifo: true,
      });

      const traceId = hex(16);
      const callerSpan = hex(8);
      await publishWith(server, { traceparent: `00-${traceId}-${callerSpan}-01` }, 'traced');
      const [toHanded] = await handed.waitForCount(1, 15_000);
      const [toClaimed] = await claimed.waitForCount(1, 15_000);
      const sent = { [handedId]: toHanded?.headers.traceparent, [claimedId]: toClaimed?.headers.traceparent };
      for (const value of Object.values(sent))
        assert.match(value ?? '', new RegExp(`^00-${traceId}-[0-9a-f]{16}-01$`), 'the publish’s trace id');

      const wanted = (spans: OtlpSpan[]) =>
        spans.filter((s) => s.name === 'hookline.deliver' && s.traceId === traceId).length >= 2 &&
        spans.some((s) => s.name === 'hookline.claim') &&
        spans.some((s) => s.name === 'hookline.record' && s.traceId === traceId);
      const spans = await eventually(
        async () => (wanted(spansOf(otlp)) ? spansOf(otlp) : undefined),
        15_000,
        'the spans to be exported',
      );
      assert.ok(spans.every((s) => s.service === 'hookline-test'));

      const operation = spans.find((s) => s.name === 'mutation Publish');
      assert.ok(operation, 'a span for the GraphQL operation');
      assert.equal(operation.traceId, traceId);
      assert.equal(operation.parentSpanId, callerSpan, 'a child of the caller’s span');
      assert.equal(operation.attributes['graphql.operation.name'], 'Publish');
      assert.equal(operation.attributes['graphql.operation.type'], 'mutation');
      assert.equal(operation.attributes['hookline.graphql.outcome'], 'ok');

      const publish = spans.find((s) => s.name === 'hookline.publish' && s.traceId === traceId);
      assert.ok(publish, 'a span for the publish');
      assert.equal(publish.parentSpanId, operation.spanId);
      assert.equal(publish.attributes['hookline.event.count'], 1);
      assert.equal(publish.attributes['hookline.delivery.count'], 2);
      assert.equal(typeof publish.attributes['hookline.tenant.id'], 'string');

      for (const [webhookId, traceparent] of Object.entries(sent)) {
        const deliver = spans.find(
          (s) => s.name === 'hookline.deliver' && s.attributes['hookline.webhook.id'] === webhookId,
        );
        assert.ok(deliver, `a span for the attempt to ${webhookId}`);
        assert.equal(deliver.traceId, traceId);
        assert.equal(deliver.parentSpanId, publish.spanId, 'a child of the publish');
        assert.equal(traceparent?.split('-')[2], deliver.spanId, 'the request continues the attempt’s span');
        assert.equal(deliver.attributes['hookline.delivery.status'], 'SUCCEEDED');
        assert.equal(deliver.attributes['hookline.delivery.attempt'], 1);
        assert.equal(deliver.attributes['http.response.status_code'], 200);
        assert.equal(deliver.attributes['error.type'], undefined);
        assert.equal((deliver.attributes['hookline.delivery.ids'] as string[]).length, 1);
        // Requests answered together are written together: the write is a child of the first
        // one's span, linked to the others'.
        const record = spans.find(
          (s) =>
            s.name === 'hookline.record' &&
            (s.parentSpanId === deliver.spanId || s.links?.some((l) => l.spanId === deliver.spanId)),
        );
        assert.ok(record, 'the write of its outcome');
        assert.equal(record.traceId, traceId);
      }
      const claim = spans.find(
        (s) => s.name === 'hookline.claim' && s.links?.some((l) => l.traceId === traceId),
      );
      assert.ok(claim, 'the claim round of the FIFO delivery, linked to the publish');
      assert.equal(claim.attributes['hookline.claim.deliveries'], 1);
    });

    it('records a failed attempt with its HTTP status and error kind', async () => {
      const otlp = await collector();
      const hook = await startReceiver((_req, res) => {
        res.writeHead(503);
        res.end('down');
      });
      receivers.push(hook);
      const server = await startServer(backend, {
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${otlp.url}/v1/traces`,
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_BSP_SCHEDULE_DELAY: '50',
      });
      running.push(server);
      const webhookId = await createWebhook(server, {
        config: { endpoint: `${hook.url}/hook` },
        eventFilters: [{ eventTypes: ['failing'] }],
      });
      // No traceparent from the caller: the operation starts the trace.
      await publishWith(server, {}, 'failing');
      await hook.waitForCount(1, 15_000);
      const deliver = await eventually(
        async () =>
          spansOf(otlp).find(
            (s) => s.name === 'hookline.deliver' && s.attributes['hookline.webhook.id'] === webhookId,
          ),
        15_000,
        'the attempt’s span',
      );
      assert.equal(deliver.attributes['http.response.status_code'], 503);
      assert.equal(deliver.attributes['error.type'], 'HTTP_STATUS');
      assert.equal(deliver.attributes['hookline.delivery.status'], 'AWAITING_RETRY');
      assert.equal(deliver.service, 'hookline');
      const operation = spansOf(otlp).find((s) => s.name === 'mutation Publish');
      assert.equal(operation?.traceId, deliver.traceId);
      assert.equal(operation?.parentSpanId, undefined, 'a new trace');
    });

    it('with no OTLP endpoint configured, sends no traceparent and exports nothing', async () => {
      const otlp = await collector();
      const hook = await startReceiver();
      receivers.push(hook);
      // Tracing's other variables alone turn nothing on.
      const server = await startServer(backend, {
        OTEL_SERVICE_NAME: 'hookline-test',
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_TRACES_SAMPLER: 'always_on',
      });
      running.push(server);
      await createWebhook(server, {
        config: { endpoint: `${hook.url}/hook` },
        eventFilters: [{ eventTypes: ['untraced'] }],
      });
      await publishWith(server, { traceparent: `00-${hex(16)}-${hex(8)}-01` }, 'untraced');
      const [request] = await hook.waitForCount(1, 15_000);
      assert.equal(request?.headers.traceparent, undefined);
      // A stopped server has flushed whatever it had (stop() exports the rest when on).
      await running.pop()?.stop();
      assert.equal(otlp.received.length, 0);
    });
  });
}

describe('tracing configuration', () => {
  const base = { DATABASE_URL: 'memory://' };
  it('is off without an endpoint, or when OTEL_SDK_DISABLED or OTEL_TRACES_EXPORTER=none says so', () => {
    assert.equal(parseConfig({ ...base, OTEL_SERVICE_NAME: 'x' }).tracing, null);
    const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' };
    assert.equal(parseConfig({ ...base, ...endpoint, OTEL_SDK_DISABLED: 'true' }).tracing, null);
    assert.equal(parseConfig({ ...base, ...endpoint, OTEL_TRACES_EXPORTER: 'none' }).tracing, null);
  });

  it('reads the standard variables, the traces-specific ones first', () => {
    const tracing = parseConfig({
      ...base,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/',
      OTEL_EXPORTER_OTLP_HEADERS: 'x-api-key=a%20b,x-other=1',
      OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'x-other=2',
      OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=prod,service.name=from-resource',
      OTEL_TRACES_SAMPLER: 'parentbased_traceidratio',
      OTEL_TRACES_SAMPLER_ARG: '0.25',
    }).tracing;
    assert.equal(tracing?.url, 'http://collector:4318/v1/traces');
    assert.equal(tracing?.protocol, 'http/protobuf', 'the specification’s default');
    assert.deepEqual(tracing?.headers, { 'x-api-key': 'a b', 'x-other': '2' });
    assert.equal(tracing?.serviceName, 'from-resource');
    assert.deepEqual(tracing?.sampler, { name: 'parentbased_traceidratio', arg: 0.25 });
    const specific = parseConfig({
      ...base,
      OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318',
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'https://traces.example.com/otlp',
      OTEL_SERVICE_NAME: 'named',
    }).tracing;
    assert.equal(specific?.url, 'https://traces.example.com/otlp', 'used as is');
    assert.equal(specific?.serviceName, 'named');
  });

  it('refuses grpc and never echoes the headers, which hold credentials', () => {
    assert.throws(
      () =>
        parseConfig({
          ...base,
          OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4317',
          OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
        }),
      /OTEL_EXPORTER_OTLP_PROTOCOL must be http\/protobuf or http\/json/,
    );
    assert.throws(
      () => parseConfig({ ...base, OTEL_EXPORTER_OTLP_HEADERS: 'secret-token' }),
      (error: Error) =>
        /OTEL_EXPORTER_OTLP_HEADERS/.test(error.message) && !error.message.includes('secret-token'),
    );
  });
});
