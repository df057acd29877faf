/**
 * One request is one trace, across processes: the gateway's spans and the connector's spans
 * share the trace id, with the context carried in Kafka headers.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, test } from 'node:test';
import { client, ctx, eventually, marker } from '../support/context.js';

interface ExportedSpan {
  service: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
}

function spansOf(traceId: string): ExportedSpan[] {
  return readFileSync(ctx().spansFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as ExportedSpan)
    .filter((s) => s.traceId === traceId);
}

describe('tracing', () => {
  test('one request yields one trace with spans from both gateway and connector', async () => {
    const { response } = await client()
      .chat.completions.create({
        model: 'turnpike/sim-small',
        messages: [{ role: 'user', content: marker('trace') }],
      })
      .withResponse();
    const traceId = response.headers.get('x-trace-id')!;
    assert.match(traceId, /^[0-9a-f]{32}$/);
    const spans = await eventually(
      async () => {
        const s = spansOf(traceId);
        const services = new Set(s.map((x) => x.service));
        return services.has('turnpike-gateway') &&
          services.has('turnpike-connector') &&
          s.length >= 5
          ? s
          : undefined;
      },
      'spans of both services',
      15_000,
    );
    const byName = (n: string) => spans.find((s) => s.name === n);
    const server = byName('POST /v1/chat/completions');
    const publish = byName('llm.requests.v1 publish');
    const consume = byName('llm.requests.v1 process');
    const upstream = spans.find((s) => s.name.startsWith('POST sim'));
    assert.ok(
      server && publish && consume && upstream,
      spans.map((s) => `${s.service}:${s.name}`).join(', '),
    );
    assert.equal(server.service, 'turnpike-gateway');
    assert.equal(consume.service, 'turnpike-connector');
    // Parentage across the hop: server -> publish -> (Kafka headers) -> process -> upstream call.
    assert.equal(publish.parentSpanId, server.spanId);
    assert.equal(consume.parentSpanId, publish.spanId);
    assert.equal(upstream.parentSpanId, consume.spanId);
    // ...and back: the gateway processes the final reply as a child of the connector's span.
    const back = spans.find((s) => s.name === 'llm.replies.v1 process');
    assert.ok(back, 'the reply hop is traced');
    assert.equal(back.service, 'turnpike-gateway');
    assert.equal(back.parentSpanId, consume.spanId);
  });

  test('a client traceparent is continued, not replaced', async () => {
    const traceId = 'ab'.repeat(16);
    const res = await fetch(`${ctx().gatewayUrl}/v1/chat/completions`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${ctx().tenants[0]!.key}`,
        'content-type': 'application/json',
        traceparent: `00-${traceId}-${'cd'.repeat(8)}-01`,
      },
      body: JSON.stringify({
        model: 'turnpike/sim-small',
        messages: [{ role: 'user', content: marker('tp') }],
      }),
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('x-trace-id'), traceId);
  });
});
