import { Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { performance } from 'node:perf_hooks';
import type { UsageEventV1 } from '@turnpike/contracts';
import { SpanStatusCode } from '@turnpike/telemetry';
import { UsagePublisher } from '../usage/usage-publisher.service.js';
import { GenerationBilling } from './generation-bill.js';
import type { Generation } from './generation.js';

/**
 * The end of a generation: its usage event (what billing books and analytics count), with the
 * bill written onto each served attempt, handed to the publisher (spooled to disk until the
 * broker has it), and the request's span closed.
 */
@Injectable()
export class UsageEvents {
  constructor(
    private readonly billing: GenerationBilling,
    private readonly usage: UsagePublisher,
  ) {}

  finish(gen: Generation, req: FastifyRequest, httpStatus: number): void {
    const latencyMs = round((gen.endedAt ?? performance.now()) - gen.t0);
    const bill = this.billing.bill(gen);
    for (const p of bill.parts) {
      p.part.entry.billedTokens = p.tokens;
      p.part.entry.billedUpstreamMicros = p.upstreamMicros;
      p.part.entry.chargedMicros = p.chargedMicros;
    }
    const last = gen.last;
    const event: UsageEventV1 = {
      v: 1,
      generationId: gen.id,
      createdAt: gen.createdAt.toISOString(),
      tenantId: gen.auth.tenantId,
      keyId: gen.auth.keyId,
      app: {
        referer: header(req, 'http-referer') ?? header(req, 'referer'),
        // `X-Title`, or `X-OpenRouter-Title` as `@openrouter/sdk` sends its `appTitle`.
        title: header(req, 'x-title') ?? header(req, 'x-openrouter-title'),
      },
      requestedModel: gen.body.model,
      // What served the end of the answer.
      model: last?.candidate.model.id ?? null,
      provider: last?.candidate.endpoint.provider ?? null,
      endpointId: last?.candidate.endpoint.id ?? null,
      accountId: last?.entry.accountId ?? null,
      stream: gen.stream,
      status: gen.status,
      finishReason: last?.finishReason ?? null,
      nativeFinishReason: last?.nativeFinishReason ?? null,
      tokens: bill.tokens,
      usageReported: bill.usageReported,
      cost: bill.cost,
      ttftMs: gen.firstTokenAt === null ? null : round(gen.firstTokenAt - gen.t0),
      latencyMs,
      attempts: gen.attempts,
      error: gen.error
        ? { status: gen.error.status, code: gen.error.code, message: gen.error.message }
        : null,
      requestBytes: Number(req.headers['content-length'] ?? 0) || 0,
    };
    void this.usage.publish(event);
    gen.span.setAttribute('http.response.status_code', httpStatus);
    gen.span.setAttribute('turnpike.status', gen.status);
    gen.span.setAttribute('turnpike.attempts', gen.attempts.length);
    if (gen.status !== 'success')
      gen.span.setStatus({ code: SpanStatusCode.ERROR, message: gen.error?.message ?? gen.status });
    gen.span.end();
  }
}

function header(req: FastifyRequest, name: string): string | null {
  const v = req.headers[name];
  const s = Array.isArray(v) ? v[0] : v;
  return s ? s.slice(0, 512) : null;
}

const round = (ms: number): number => Math.round(ms * 100) / 100;
