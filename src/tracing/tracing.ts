import type { Attributes, Span } from '@opentelemetry/api';
import type { Logger } from '../logger.js';

export type { Span };

/**
 * OpenTelemetry as configured by the standard OTEL_* variables (config.ts). Only types are
 * imported here: with tracing off, `startTracing` returns null, no OpenTelemetry module is
 * loaded, and every instrumented place costs one null check.
 */
export interface TracingConfig {
  /** Where spans are POSTed: OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, or OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces. */
  url: string;
  protocol: 'http/protobuf' | 'http/json';
  headers: Record<string, string>;
  timeoutMs: number | undefined;
  compression: 'gzip' | 'none' | undefined;
  serviceName: string;
  resourceAttributes: Record<string, string>;
  sampler: { name: Sampler; arg: number | undefined };
  /** OTEL_BSP_*: the batch span processor's delay, queue and batch sizes, and export timeout. */
  batch: {
    scheduledDelayMillis?: number;
    maxQueueSize?: number;
    maxExportBatchSize?: number;
    exportTimeoutMillis?: number;
  };
}

export const samplers = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const;
export type Sampler = (typeof samplers)[number];

export interface StartOptions {
  /**
   * The parent: a W3C `traceparent` value, null for a new trace, or (unset) the span current
   * where `start` is called (see `within`).
   */
  parent?: string | null | undefined;
  /** Other traces this span continues, as `traceparent` values (a batch of several events). */
  links?: string[];
  kind?: 'internal' | 'server' | 'client' | 'producer' | 'consumer';
  attributes?: Attributes;
  /** When the span began, as performance.now() gave it (a span recorded after the fact). */
  startTime?: number;
}

export interface Tracing {
  start(name: string, options?: StartOptions): Span;
  /** Runs `work` with `span` current, so that the spans started inside it are its children. */
  within<T>(span: Span, work: () => T): T;
  /** The `traceparent` header value that continues `span`. */
  traceparent(span: Span): string;
  /** Marks the span failed (status ERROR), with a message. */
  fail(span: Span, message: string): void;
  /** Exports what is buffered and stops exporting. */
  stop(): Promise<void>;
}

/** Null unless an OTLP endpoint is configured; the SDK is imported only then. */
export async function startTracing(config: TracingConfig | null, logger: Logger): Promise<Tracing | null> {
  if (!config) return null;
  const { createTracing } = await import('./otel.js');
  const tracing = await createTracing(config, logger);
  logger.info(
    {
      url: config.url,
      protocol: config.protocol,
      sampler: config.sampler.name,
      serviceName: config.serviceName,
    },
    'exporting traces',
  );
  return tracing;
}

/**
 * Runs `work` in a span (ended when it settles, failed when it throws), or, with tracing off,
 * just runs it with no span.
 */
export async function traced<T>(
  tracing: Tracing | null | undefined,
  name: string,
  options: StartOptions,
  work: (span: Span | undefined) => Promise<T>,
): Promise<T> {
  if (!tracing) return work(undefined);
  const span = tracing.start(name, options);
  try {
    return await tracing.within(span, () => work(span));
  } catch (error) {
    tracing.fail(span, (error as Error)?.message ?? String(error));
    throw error;
  } finally {
    span.end();
  }
}
