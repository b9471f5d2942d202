/**
 * The span of one outbox delivery attempt (a client span `outbox attempt`): the owner, the
 * receiver's host (never the URL's path, query or credentials), the attempt number, and once
 * it ends the outcome (delivered, retry, dead) and the status received. Built only when the
 * span records (a host registered an OpenTelemetry SDK).
 */
import { SpanKind, SpanStatusCode, type Span } from '@opentelemetry/api';
import { tracer } from './tracing.js';

/** The name of every outbox attempt span. */
export const OUTBOX_ATTEMPT_SPAN = 'outbox attempt';

/** Starts the span of attempt number `attempt` of a delivery of `owner` to `url`. */
export function startAttemptSpan(owner: string, url: string, attempt: number): Span {
  const span = tracer().startSpan(OUTBOX_ATTEMPT_SPAN, { kind: SpanKind.CLIENT });
  if (span.isRecording()) {
    let host: string | undefined;
    let port: number | undefined;
    try {
      const u = new URL(url);
      host = u.hostname;
      port = u.port ? Number(u.port) : u.protocol === 'https:' ? 443 : 80;
    } catch {
      // An unparsable URL fails the attempt itself; the span just has no host.
    }
    span.setAttributes({ 'switchboard.outbox.owner': owner, 'switchboard.outbox.attempt': attempt });
    if (host !== undefined) span.setAttributes({ 'server.address': host, 'server.port': port });
  }
  return span;
}

/**
 * Ends an attempt's span with its outcome (`delivered`, `retry`, `dead`) and the status
 * received, if any; an attempt that did not deliver marks the span as an error. `outcome`
 * is undefined when the attempt was cut short by a stop (it does not count as one) or its
 * claim expired meanwhile (another instance took the delivery over): `interrupted`.
 */
export function endAttemptSpan(span: Span, outcome: string | undefined, status?: number): void {
  if (span.isRecording()) {
    span.setAttribute('switchboard.outbox.outcome', outcome ?? 'interrupted');
    if (status !== undefined) span.setAttribute('http.response.status_code', status);
    if (outcome !== 'delivered') span.setStatus({ code: SpanStatusCode.ERROR });
  }
  span.end();
}
