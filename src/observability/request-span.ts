/**
 * The span of one request to a plugin route (a server span named `<METHOD> <route
 * template>`, with the plugin, the route template and the status). Without an
 * OpenTelemetry SDK the span is the API's non-recording one and nothing else is built.
 */
import { context, SpanKind, SpanStatusCode, trace, type Span } from '@opentelemetry/api';
import { tracer } from './tracing.js';

/** Starts the span of a request matched to `route` of `plugin`. */
export function startRequestSpan(plugin: string, method: string, route: string): Span {
  const span = tracer().startSpan(`${method} ${route}`, { kind: SpanKind.SERVER });
  if (span.isRecording()) span.setAttributes({ 'switchboard.plugin': plugin, 'http.request.method': method, 'http.route': route });
  return span;
}

/** Ends a request's span with its response status (5xx marks it as an error). */
export function endRequestSpan(span: Span, status: number): void {
  if (span.isRecording()) {
    span.setAttribute('http.response.status_code', status);
    if (status >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}

/** Runs `fn` with `span` as the active span. */
export function contextWithSpan<T>(span: Span, fn: () => T): T {
  return context.with(trace.setSpan(context.active(), span), fn);
}
