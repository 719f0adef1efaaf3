import { AsyncLocalStorage } from 'node:async_hooks';
import {
  type Context,
  defaultTextMapGetter,
  defaultTextMapSetter,
  type Link,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { ExportResultCode, W3CTraceContextPropagator } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  type Sampler,
  type SpanExporter,
  TraceIdRatioBasedSampler,
} from '@opentelemetry/sdk-trace-base';
import type { Logger } from '../logger.js';
import { version } from '../version.js';
import type { TracingConfig } from '../config.js';
import type { StartOptions, Tracing } from './types.js';

const kinds = {
  internal: SpanKind.INTERNAL,
  server: SpanKind.SERVER,
  client: SpanKind.CLIENT,
  producer: SpanKind.PRODUCER,
  consumer: SpanKind.CONSUMER,
};

function samplerOf({ name, arg }: TracingConfig['sampler']): Sampler {
  const ratio = () => new TraceIdRatioBasedSampler(arg ?? 1);
  switch (name) {
    case 'always_on':
      return new AlwaysOnSampler();
    case 'always_off':
      return new AlwaysOffSampler();
    case 'traceidratio':
      return ratio();
    case 'parentbased_always_off':
      return new ParentBasedSampler({ root: new AlwaysOffSampler() });
    case 'parentbased_traceidratio':
      return new ParentBasedSampler({ root: ratio() });
    default:
      return new ParentBasedSampler({ root: new AlwaysOnSampler() });
  }
}

async function exporterOf(config: TracingConfig): Promise<SpanExporter> {
  const options = {
    url: config.url,
    headers: config.headers,
    ...(config.timeoutMs === undefined ? {} : { timeoutMillis: config.timeoutMs }),
    ...(config.compression === undefined ? {} : { compression: config.compression as never }),
  };
  // Each protocol's exporter is loaded only when chosen (protobufjs for http/protobuf).
  if (config.protocol === 'http/json') {
    const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-http');
    return new OTLPTraceExporter(options);
  }
  const { OTLPTraceExporter } = await import('@opentelemetry/exporter-trace-otlp-proto');
  return new OTLPTraceExporter(options);
}

/** Says once that exports fail (and once that they work again), instead of once per batch. */
function loggingFailures(exporter: SpanExporter, logger: Logger, url: string): SpanExporter {
  let failing = false;
  return {
    export(spans, done) {
      exporter.export(spans, (result) => {
        if (result.code !== ExportResultCode.SUCCESS && !failing) {
          failing = true;
          logger.warn(
            { err: result.error, url, spans: spans.length },
            'could not export spans; dropping them',
          );
        } else if (result.code === ExportResultCode.SUCCESS && failing) {
          failing = false;
          logger.info({ url }, 'exporting spans again');
        }
        done(result);
      });
    },
    shutdown: () => exporter.shutdown(),
    ...(exporter.forceFlush ? { forceFlush: () => exporter.forceFlush?.() as Promise<void> } : {}),
  };
}

/**
 * The SDK without any global registration: the current span is kept in this instance's own
 * AsyncLocalStorage, so two servers in one process (the tests) never see each other's spans,
 * and nothing else in the process (drizzle, undici) is instrumented behind our back.
 */
export async function createTracing(config: TracingConfig, logger: Logger): Promise<Tracing> {
  const exporter = loggingFailures(await exporterOf(config), logger, config.url);
  const processor = new BatchSpanProcessor(exporter, config.batch);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      'service.version': version,
      ...config.resourceAttributes,
      'service.name': config.serviceName,
    }),
    sampler: samplerOf(config.sampler),
    spanProcessors: [processor],
  });
  const tracer = provider.getTracer('hookline', version);
  const current = new AsyncLocalStorage<Span>();
  const propagator = new W3CTraceContextPropagator();
  const extract = (traceparent: string): Context =>
    propagator.extract(ROOT_CONTEXT, { traceparent }, defaultTextMapGetter);
  const linkOf = (traceparent: string): Link | null => {
    const context = trace.getSpanContext(extract(traceparent));
    return context ? { context } : null;
  };
  let stopped: Promise<void> | undefined;

  return {
    start(name, options: StartOptions = {}) {
      const parent =
        options.parent === undefined
          ? (() => {
              const span = current.getStore();
              return span ? trace.setSpan(ROOT_CONTEXT, span) : ROOT_CONTEXT;
            })()
          : options.parent === null
            ? ROOT_CONTEXT
            : extract(options.parent);
      return tracer.startSpan(
        name,
        {
          kind: kinds[options.kind ?? 'internal'],
          ...(options.attributes ? { attributes: options.attributes } : {}),
          ...(options.links?.length
            ? { links: options.links.map(linkOf).filter((l): l is Link => l !== null) }
            : {}),
          ...(options.startTime === undefined ? {} : { startTime: options.startTime }),
        },
        parent,
      );
    },
    within: (span, work) => current.run(span, work),
    traceparent(span) {
      const carrier: Record<string, string> = {};
      propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, defaultTextMapSetter);
      return carrier.traceparent as string;
    },
    fail(span, message) {
      span.setStatus({ code: SpanStatusCode.ERROR, message });
    },
    stop() {
      stopped ??= provider.shutdown().catch((error) => {
        logger.warn({ err: error }, 'could not export the last spans');
      });
      return stopped;
    },
  };
}
