/**
 * Tracing through `@opentelemetry/api` only: Switchboard ships no SDK. A host that
 * registers a tracer provider gets spans for requests, outbox attempts, bot runs and
 * migrations; without one the API's no-op tracer answers, and the spans cost nothing
 * measurable (attributes are only built for a span that records).
 */
import { SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api';

/** The instrumentation scope name of every Switchboard span. */
export const TRACER_NAME = 'switchboard';

/** Switchboard's tracer: the global provider's (a no-op one unless the host registers an SDK). */
export function tracer(): Tracer {
  return trace.getTracer(TRACER_NAME);
}

/** Options of {@link inSpan}. */
export interface InSpanOptions {
  /** The span kind (default internal). */
  kind?: SpanKind;
  /** Attributes known at the start; built only when the span records. */
  attributes?: () => Attributes;
}

/**
 * Runs `fn` inside a new active span and ends it when `fn` settles; a throw or rejection
 * marks the span as an error (the exception is recorded, then rethrown).
 */
export async function inSpan<T>(name: string, options: InSpanOptions, fn: (span: Span) => Promise<T> | T): Promise<T> {
  return tracer().startActiveSpan(name, { kind: options.kind ?? SpanKind.INTERNAL }, async (span) => {
    if (options.attributes && span.isRecording()) span.setAttributes(options.attributes());
    try {
      return await fn(span);
    } catch (err) {
      if (span.isRecording()) {
        span.recordException(err instanceof Error ? err : String(err));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
      throw err;
    } finally {
      span.end();
    }
  });
}

