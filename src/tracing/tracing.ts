import type { Span } from '@opentelemetry/api';
import type { TracingConfig } from '../config.js';
import type { Logger } from '../logger.js';
import type { StartOptions, Tracing } from './types.js';

export type { Sampler, TracingConfig } from '../config.js';

export type { Span };
export type { StartOptions, Tracing } from './types.js';

/**
 * OpenTelemetry as configured by the standard OTEL_* variables (config.ts). Only types are
 * imported here: with tracing off, `startTracing` returns null, no OpenTelemetry module is
 * loaded, and every instrumented place costs one null check.
 */
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
