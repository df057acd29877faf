import {
  context,
  propagation,
  trace,
  SpanKind,
  SpanStatusCode,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { NodeSDK } from '@opentelemetry/sdk-node';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { TracerProvider } from '@opentelemetry/sdk-trace';

export { context, trace, SpanKind, SpanStatusCode };
export type { Context, Span, Tracer };

export interface TelemetryHandle {
  shutdown(): Promise<void>;
}

/**
 * Starts the OpenTelemetry Node SDK. Exporters, protocol, endpoint and sampling are driven by
 * the standard `OTEL_*` variables, which the SDK reads itself (OTEL_TRACES_EXPORTER,
 * OTEL_EXPORTER_OTLP_ENDPOINT, OTEL_EXPORTER_OTLP_PROTOCOL, OTEL_TRACES_SAMPLER, ...).
 * Spans of our own hops (HTTP ingress, Kafka produce/consume, upstream call) are created
 * explicitly, so they do not depend on ESM monkey-patching.
 */
export function startTelemetry(opts: {
  serviceName: string;
  serviceVersion: string;
  instanceId: string;
}): TelemetryHandle {
  const resource = resourceFromAttributes({
    'service.name': opts.serviceName,
    'service.version': opts.serviceVersion,
    'service.instance.id': opts.instanceId,
    'service.namespace': 'turnpike',
  });
  const sdk = new NodeSDK({
    serviceName: opts.serviceName,
    resource,
    instrumentations: [],
  });
  sdk.start();
  // With OTEL_TRACES_EXPORTER=none the SDK registers no tracer provider at all, and every trace
  // id would be zeros. Responses still carry their trace id, so register one that exports nothing.
  const probe = trace.getTracer('turnpike').startSpan('probe');
  const recording = probe.spanContext().traceId !== '00000000000000000000000000000000';
  probe.end();
  let fallback: TracerProvider | null = null;
  if (!recording) {
    fallback = new TracerProvider({ resource });
    trace.setGlobalTracerProvider(fallback);
  }
  return {
    shutdown: async () => {
      await sdk.shutdown();
      await fallback?.shutdown();
    },
  };
}

export const tracer = (): Tracer => trace.getTracer('turnpike');

export type Carrier = Record<string, string>;

/** W3C trace context of `ctx` as message headers (traceparent, tracestate). */
export function injectContext(ctx: Context = context.active()): Carrier {
  const carrier: Carrier = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** The context carried by message headers (Kafka header values arrive as Buffers). */
export function extractContext(
  headers: Record<string, Buffer | string | (Buffer | string)[] | undefined> | undefined,
): Context {
  const carrier: Carrier = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    const value = Array.isArray(v) ? v[0] : v;
    if (value !== undefined) carrier[k] = value.toString();
  }
  return propagation.extract(context.active(), carrier);
}

/** Trace id of a span, or of the active span. */
export function traceIdOf(span?: Span): string | undefined {
  const s = span ?? trace.getActiveSpan();
  const id = s?.spanContext().traceId;
  return id && id !== '00000000000000000000000000000000' ? id : undefined;
}

/** Ends a span with an error status. */
export function failSpan(span: Span, err: unknown): void {
  const message = err instanceof Error ? err.message : String(err);
  span.setStatus({ code: SpanStatusCode.ERROR, message });
  if (err instanceof Error) span.recordException(err);
}
