/**
 * One chat request, whatever the protocol: record it, parse and authorise it, resolve the knobs,
 * apply the faults (reset, error status, context window), plan the answer and run the token
 * clock into the protocol's streamed or buffered sink.
 */
import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Generation, type GenerationSink } from './generation.js';
import {
  dropResponse,
  parseJson,
  readBody,
  recordHeaders,
  resetConnection,
  type Exchange,
} from './http-util.js';
import {
  extractDirectives,
  KnobError,
  knobsFromHeaders,
  mergeKnobs,
  withoutFaults,
} from './knobs.js';
import { planCompletion } from './plan.js';
import {
  countTextTokens,
  summarise,
  type ChatDialect,
  type SimChatRequest,
  type SimContext,
  type SinkArgs,
} from './protocol.js';
import { proxyErrorBody } from './proxy-errors.js';
import { SimHttpError } from './sim-error.js';
import { MAX_TOKEN_TIMES, type Knobs, type SimOutcome, type SimRequestRecord } from './types.js';

/** How many prompts the `fault_times` counts remember (the oldest are forgotten first). */
const MAX_FAULT_PROMPTS = 10_000;

function resolveKnobs<R extends SimChatRequest>(
  ctx: SimContext,
  ex: Exchange,
  req: R,
  dialect: ChatDialect<R>,
): Knobs {
  let knobs: Knobs;
  try {
    knobs = mergeKnobs(
      ctx.defaults(),
      knobsFromHeaders(ex.req.headers),
      extractDirectives(req.lastUserText).knobs,
    );
  } catch (e) {
    if (e instanceof KnobError) throw dialect.badKnob(e.message);
    throw e;
  }
  if (knobs.faultTimes === undefined) return knobs;
  // A transient fault: only the first `fault_times` requests of this prompt meet it.
  const seen = ctx.faultCounts.get(req.lastUserText) ?? 0;
  ctx.faultCounts.delete(req.lastUserText);
  ctx.faultCounts.set(req.lastUserText, seen + 1);
  if (ctx.faultCounts.size > MAX_FAULT_PROMPTS)
    ctx.faultCounts.delete(ctx.faultCounts.keys().next().value!);
  return seen < knobs.faultTimes ? knobs : withoutFaults(knobs);
}

/** Tracks how the exchange ends and records it. */
class Outcome {
  /** What a normally finished response means (completed, or error for a 4xx/5xx). */
  intended: SimOutcome = 'completed';
  /** Set when the simulator itself dropped the connection. */
  dropped: SimOutcome | undefined;
  generation: Generation | undefined;

  constructor(
    private readonly ctx: SimContext,
    private readonly ex: Exchange,
    readonly record: SimRequestRecord,
  ) {
    ex.res.on('close', () => this.closed());
  }

  private closed(): void {
    const { res } = this.ex;
    if (this.generation) {
      this.generation.cancel();
      this.ctx.active.delete(this.generation);
    }
    const outcome = this.dropped ?? (res.writableFinished ? this.intended : 'aborted');
    this.ctx.records.update(this.record, {
      outcome,
      status: res.headersSent ? res.statusCode : null,
      endedAt: Date.now(),
    });
  }

  tokens(count: number): void {
    const patch: Partial<SimRequestRecord> = { tokensSent: this.record.tokensSent + count };
    if (this.record.firstTokenAt === undefined && count > 0) patch.firstTokenAt = Date.now();
    if (count > 0 && this.record.tokenTimes.length < MAX_TOKEN_TIMES)
      this.record.tokenTimes.push(performance.timeOrigin + performance.now());
    this.ctx.records.update(this.record, patch);
  }
}

export async function runChat<R extends SimChatRequest>(
  ctx: SimContext,
  ex: Exchange,
  url: URL,
  dialect: ChatDialect<R>,
): Promise<void> {
  const record: SimRequestRecord = {
    id: ex.id,
    receivedAt: ex.receivedAt,
    model: null,
    stream: false,
    messagesCount: 0,
    headers: recordHeaders(ex.req),
    credentialSha256: credentialHash(dialect.credentialOf(ex)),
    body: undefined,
    knobs: ctx.defaults(),
    outcome: 'in_progress',
    status: null,
    tokensSent: 0,
    tokenTimes: [],
  };
  ctx.records.add(record);
  const outcome = new Outcome(ctx, ex, record);

  try {
    const raw = await readBody(ex.req);
    const body = parseJson(raw);
    ctx.records.update(record, { body });
    dialect.authorize(ctx, ex, raw);
    if (body === undefined) throw dialect.invalidJson();
    const req = dialect.parse(body, ex, url);
    ctx.records.update(record, {
      model: req.model,
      stream: req.stream,
      messagesCount: req.promptTexts.length,
      parsed: summarise(req),
    });
    const model = ctx.models.get(req.model);
    if (!model) throw dialect.modelNotFound(req.model);
    const knobs = resolveKnobs(ctx, ex, req, dialect);
    ctx.records.update(record, { knobs });

    if (knobs.reset) {
      outcome.dropped = 'reset';
      resetConnection(ex.req.socket);
      return;
    }
    if (knobs.status !== undefined) {
      const e = dialect.errorForStatus(knobs.status, {
        model: req.model,
        apiKey: dialect.credentialOf(ex),
        ...(knobs.retryAfterSec !== undefined ? { retryAfterSec: knobs.retryAfterSec } : {}),
        ...(knobs.errorMessage !== undefined ? { message: knobs.errorMessage } : {}),
      });
      if (knobs.errorBody === undefined) throw e;
      // A proxy in front of the upstream answers instead (its page names the server's address).
      const server = `${ex.req.socket.localAddress ?? '127.0.0.1'}:${ex.req.socket.localPort ?? 80}`;
      throw new SimHttpError(
        e.status,
        e.body,
        e.headers,
        proxyErrorBody(knobs.status, knobs.errorBody, server),
      );
    }
    const promptTokens = countTextTokens(req.promptTexts);
    if (model.contextLength !== undefined && promptTokens > model.contextLength) {
      throw dialect.contextLengthExceeded(model.contextLength, promptTokens);
    }
    const args: SinkArgs<R> = {
      ex,
      plans: planCompletion(req, knobs),
      req,
      meta: {
        id: dialect.completionId(),
        created: Math.floor(Date.now() / 1000),
        model: req.model,
      },
      promptTokens,
      knobs,
      drop: () => {
        outcome.dropped = 'cut';
        dropResponse(ex.res);
      },
      silent: knobs.usage === 'none',
    };
    const sink = req.stream ? dialect.streamSink(args) : dialect.bufferedSink(args);
    const generation = new Generation(args.plans, knobs, sink, (n) => outcome.tokens(n));
    outcome.generation = generation;
    ctx.active.add(generation);
    generation.start();
  } catch (e) {
    if (!(e instanceof SimHttpError)) throw e;
    outcome.intended = 'error';
    if (!ex.res.headersSent && !ex.res.destroyed) ex.error(e);
  }
}

/** Waits for the response's drain (the generation's back-pressure). */
export function onDrain(ex: Exchange) {
  return (resume: () => void) => ex.res.once('drain', resume);
}

/** A whole (non-streamed) response body, as a protocol renders it. */
export interface WholeBody {
  payload: string;
  contentType: string;
  headers?: Record<string, string>;
}

/**
 * The sink of a non-streamed answer, whatever the protocol: nothing is written until the last
 * token, then the whole body; the `cut` knob sends the headers and, once the first token was
 * produced, half of the body, then drops the connection.
 */
export function wholeBodySink(
  a: Pick<SinkArgs<SimChatRequest>, 'ex' | 'drop'>,
  render: () => WholeBody,
): GenerationSink {
  const { ex } = a;
  const head = (b: WholeBody) =>
    ex.res.writeHead(200, {
      ...ex.headers(b.headers),
      'content-type': b.contentType,
      'content-length': String(Buffer.byteLength(b.payload)),
    });
  let begun = false;
  return {
    begin: () => {
      begun = true;
    },
    step: () => {},
    finishChoice: () => {},
    end: () => {
      const b = render();
      head(b);
      ex.res.end(b.payload);
    },
    cut() {
      const b = render();
      head(b);
      if (begun) ex.res.write(b.payload.slice(0, Math.floor(b.payload.length / 2)));
      else ex.res.flushHeaders();
      a.drop();
    },
    flush: () => true,
    onDrain: onDrain(ex),
  };
}

/** What a record keeps of the credential: its SHA-256, never the credential. */
function credentialHash(credential: string | null | undefined): string | null {
  return credential ? createHash('sha256').update(credential).digest('hex') : null;
}
