import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';
import { Injectable, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { SseParser } from '@turnpike/providers';
import { context, injectContext, SpanStatusCode, trace, type Span } from '@turnpike/telemetry';
import { RoutingTableService } from '../catalog/routing-table.service.js';
import { CompletionStream } from '../completions/completion-stream.js';
import { adoptRequestSpan } from '../http/request-context.js';
import { parseCompareRequest } from './compare-request.js';
import { CompareRun, type CompareResult } from './compare-run.js';

type Json = Record<string, unknown>;

/** Request headers a model's call carries over from the comparison (auth, app attribution). */
const FORWARDED = ['authorization', 'http-referer', 'referer', 'x-title', 'x-openrouter-title'];

/**
 * `POST /v1/compare`: one prompt to up to 8 models at once. Each model's generation is an
 * ordinary `POST /v1/chat/completions` of this gateway, made over loopback HTTP with the
 * caller's own key and attribution: the normal path end to end (admission and the 402, routing
 * and fallback, its own generation id, usage event and ledger entry), nothing of it copied here.
 * A model that fails gives its error and leaves the others alone. Streamed (the default), every
 * chunk is relayed as it arrives, tagged with its model, then each model's result; with
 * `stream: false`, one JSON body of every result. A client that leaves cancels every model's
 * generation, as a client leaving a chat completion does (what was produced is billed).
 */
@Injectable()
export class CompareService {
  private readonly log = new Logger(CompareService.name);

  constructor(
    private readonly adapterHost: HttpAdapterHost,
    private readonly table: RoutingTableService,
  ) {}

  /** This gateway's own address, over loopback when it listens on every interface. */
  private selfUrl(): string {
    const server = this.adapterHost.httpAdapter.getHttpServer() as {
      address(): AddressInfo | string | null;
    };
    const a = server.address();
    if (!a || typeof a === 'string') throw new Error('the gateway is not listening on TCP');
    const host =
      a.address === '0.0.0.0' || a.address === '::'
        ? '127.0.0.1'
        : a.family === 'IPv6'
          ? `[${a.address}]`
          : a.address;
    return `http://${host}:${a.port}`;
  }

  async handle(req: FastifyRequest, reply: FastifyReply): Promise<void> {
    const request = parseCompareRequest(req.body, (m) => this.table.get(m) !== undefined);
    const id = `cmp-${randomUUID()}`;
    const created = Math.floor(Date.now() / 1000);
    const span = adoptRequestSpan(req);
    span?.setAttribute('turnpike.compare_id', id);
    span?.setAttribute('turnpike.compare_models', request.models.length);
    const traceId = span?.spanContext().traceId;
    const abort = new AbortController();
    const onClose = () => {
      if (!reply.raw.writableFinished) abort.abort();
    };
    reply.raw.once('close', onClose);
    const headers: Record<string, string> = {
      'x-compare-id': id,
      ...(traceId ? { 'x-trace-id': traceId } : {}),
    };
    const forwarded: Record<string, string> = {};
    for (const h of FORWARDED) {
      const v = req.headers[h];
      if (typeof v === 'string') forwarded[h] = v;
    }
    reply.hijack();
    try {
      const out = request.stream ? new CompletionStream(reply.raw, headers) : null;
      out?.chunk({ object: 'compare.start', id, created, models: request.models });
      const results = await Promise.all(
        request.bodies.map((body, i) =>
          this.runOne(i, request.models[i]!, body, forwarded, span, abort.signal, (chunk, gen) =>
            out?.chunk({
              object: 'compare.chunk',
              index: i,
              model: request.models[i],
              generation_id: gen,
              chunk,
            }),
          ).then((r) => {
            out?.chunk({ object: 'compare.result', ...r });
            return r;
          }),
        ),
      );
      const summary = this.summary(id, created, results);
      if (out) {
        out.chunk({ object: 'compare.done', id, ...summary.totals });
        out.done();
      } else if (!reply.raw.destroyed) {
        const payload = JSON.stringify({ ...summary.body });
        reply.raw.writeHead(200, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
          ...headers,
        });
        reply.raw.end(payload);
      }
      span?.setAttribute('http.response.status_code', 200);
    } catch (e) {
      this.log.error(`comparison ${id} failed: ${(e as Error).stack ?? String(e)}`);
      span?.setStatus({ code: SpanStatusCode.ERROR, message: (e as Error).message });
      if (!reply.raw.headersSent) {
        reply.raw.writeHead(500, { 'content-type': 'application/json', ...headers });
        reply.raw.end(
          JSON.stringify({
            error: {
              message: 'The comparison failed.',
              type: 'server_error',
              param: null,
              code: null,
            },
          }),
        );
      } else if (!reply.raw.writableEnded) reply.raw.end();
    } finally {
      reply.raw.off('close', onClose);
      span?.end();
    }
  }

  private summary(id: string, created: number, results: CompareResult[]) {
    const costMicros = results.reduce((n, r) => n + (r.cost_micros ?? 0), 0);
    const totals = {
      succeeded: results.filter((r) => r.status === 'success').length,
      failed: results.filter((r) => r.status === 'error').length,
      total_cost: costMicros / 1_000_000,
      total_cost_micros: costMicros,
    };
    return { totals, body: { id, object: 'compare', created, results, ...totals } };
  }

  /** One model's chat completion, through this gateway's own HTTP entry. */
  private async runOne(
    index: number,
    model: string,
    body: Json,
    forwarded: Record<string, string>,
    span: Span | undefined,
    signal: AbortSignal,
    onChunk: (chunk: Json, generationId: string | null) => void,
  ): Promise<CompareResult> {
    const started = performance.now();
    const run = new CompareRun(index, model, started);
    try {
      const trace$ = span ? injectContext(trace.setSpan(context.active(), span)) : {};
      const res = await fetch(`${this.selfUrl()}/v1/chat/completions`, {
        method: 'POST',
        headers: {
          ...forwarded,
          ...trace$,
          'content-type': 'application/json',
          'user-agent': 'turnpike-compare',
        },
        body: JSON.stringify(body),
        signal,
      });
      run.generationId = res.headers.get('x-generation-id');
      if (res.status !== 200 || !res.body) {
        const text = await res.text();
        let json: unknown = null;
        try {
          json = JSON.parse(text);
        } catch {
          // not JSON: the status says it
        }
        run.failed(res.status, json);
        return run.result(performance.now());
      }
      const parser = new SseParser();
      let done = false;
      for await (const bytes of res.body) {
        for (const ev of parser.push(bytes as Uint8Array)) {
          if (ev.data === '[DONE]') {
            done = true;
            continue;
          }
          let chunk: unknown;
          try {
            chunk = JSON.parse(ev.data);
          } catch {
            continue;
          }
          if (typeof chunk !== 'object' || chunk === null) continue;
          run.chunk(chunk as Json, performance.now());
          // The usage chunk is the result's; every other chunk goes out as it came.
          const c = chunk as Json;
          if (!(Array.isArray(c['choices']) && c['choices'].length === 0 && c['usage']))
            onChunk(c, run.generationId);
        }
      }
      if (!done) run.broken('The stream ended before it finished.');
    } catch (e) {
      run.broken(
        signal.aborted
          ? 'The comparison was cancelled.'
          : `The generation could not be completed: ${(e as Error).message}`,
      );
    }
    return run.result(performance.now());
  }
}
