import type { Attributes, Span } from '@opentelemetry/api';

/** What the server's code sees of tracing (tracing.ts starts it; otel.ts implements it). */
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
