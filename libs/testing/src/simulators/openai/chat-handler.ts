/** `POST /v1/chat/completions`: validation, knobs, faults, then a streamed or buffered completion. */
import { countPromptTokens, parseChatRequest, type ChatRequest } from './chat-request.js';
import { errorForStatus, errors, rateLimitHeaders, SimHttpError } from './errors.js';
import { Generation, type GenerationSink } from './generation.js';
import {
  bearerToken,
  dropConnection,
  parseJson,
  readBody,
  recordHeaders,
  resetConnection,
  type Exchange,
} from './http-util.js';
import { completionId } from './ids.js';
import { extractDirectives, KnobError, knobsFromHeaders, mergeKnobs } from './knobs.js';
import { planCompletion, type ChoicePlan } from './plan.js';
import type { RecordStore } from './records.js';
import {
  chatCompletion,
  ChunkFactory,
  servedTier,
  usage,
  type CompletionMeta,
} from './responses.js';
import { SseWriter } from './sse.js';
import {
  MAX_TOKEN_TIMES,
  type Knobs,
  type SimModel,
  type SimOutcome,
  type SimRequestRecord,
} from './types.js';

export interface ChatContext {
  apiKey?: string;
  models: ReadonlyMap<string, SimModel>;
  systemFingerprint: string;
  defaults(): Knobs;
  records: RecordStore;
  /** Generations in flight, cancelled when the simulator closes. */
  active: Set<Generation>;
}

/** Checks the bearer token; throws the 401 OpenAI would send. */
export function authorize(ctx: { apiKey?: string }, ex: Exchange): void {
  if (!ctx.apiKey) return;
  const token = bearerToken(ex.req);
  if (!token) throw errors.missingApiKey();
  if (token !== ctx.apiKey) throw errors.invalidApiKey(token);
}

function resolveKnobs(ctx: ChatContext, ex: Exchange, req: ChatRequest): Knobs {
  try {
    return mergeKnobs(
      ctx.defaults(),
      knobsFromHeaders(ex.req.headers),
      extractDirectives(req.lastUserText).knobs,
    );
  } catch (e) {
    if (e instanceof KnobError) throw errors.badKnob(e.message);
    throw e;
  }
}

/** Tracks how the exchange ends and records it. */
class Outcome {
  /** What a normally finished response means (completed, or error for a 4xx/5xx). */
  intended: SimOutcome = 'completed';
  /** Set when the simulator itself dropped the connection. */
  dropped: SimOutcome | undefined;
  generation: Generation | undefined;

  constructor(
    private readonly ctx: ChatContext,
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

export async function handleChatCompletion(ctx: ChatContext, ex: Exchange): Promise<void> {
  const record: SimRequestRecord = {
    id: ex.id,
    receivedAt: ex.receivedAt,
    model: null,
    stream: false,
    messagesCount: 0,
    headers: recordHeaders(ex.req),
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
    const body = parseJson(await readBody(ex.req));
    ctx.records.update(record, {
      body,
      ...(typeof body === 'object' && body !== null
        ? summarize(body as Record<string, unknown>)
        : {}),
    });
    authorize(ctx, ex);
    if (body === undefined) throw errors.invalidJson();
    const req = parseChatRequest(body);
    const model = ctx.models.get(req.model);
    if (!model) throw errors.modelNotFound(req.model);
    const knobs = resolveKnobs(ctx, ex, req);
    ctx.records.update(record, { knobs });

    if (knobs.reset) {
      outcome.dropped = 'reset';
      resetConnection(ex.req.socket);
      return;
    }
    if (knobs.status !== undefined) {
      throw errorForStatus(knobs.status, {
        model: req.model,
        apiKey: bearerToken(ex.req),
        server: `${ex.req.socket.localAddress ?? '127.0.0.1'}:${ex.req.socket.localPort ?? 80}`,
        ...(knobs.retryAfterSec !== undefined ? { retryAfterSec: knobs.retryAfterSec } : {}),
        ...(knobs.errorBody !== undefined ? { body: knobs.errorBody } : {}),
        ...(knobs.errorMessage !== undefined ? { message: knobs.errorMessage } : {}),
      });
    }
    const promptTokens = countPromptTokens(req.messages);
    if (model.contextLength !== undefined && promptTokens > model.contextLength) {
      throw errors.contextLengthExceeded(model.contextLength, promptTokens);
    }
    generate(ctx, ex, outcome, req, knobs, promptTokens);
  } catch (e) {
    if (!(e instanceof SimHttpError)) throw e;
    outcome.intended = 'error';
    if (!ex.res.headersSent && !ex.res.destroyed) ex.error(e);
  }
}

function summarize(body: Record<string, unknown>): Partial<SimRequestRecord> {
  return {
    model: typeof body['model'] === 'string' ? body['model'] : null,
    stream: body['stream'] === true,
    messagesCount: Array.isArray(body['messages']) ? body['messages'].length : 0,
  };
}

function generate(
  ctx: ChatContext,
  ex: Exchange,
  outcome: Outcome,
  req: ChatRequest,
  knobs: Knobs,
  promptTokens: number,
) {
  const plans = planCompletion(req, knobs);
  const meta: CompletionMeta = {
    id: completionId(),
    created: Math.floor(Date.now() / 1000),
    model: req.model,
    systemFingerprint: ctx.systemFingerprint,
    serviceTier: servedTier(req.serviceTier),
  };
  const drop = () => {
    outcome.dropped = 'cut';
    dropConnection(ex.res.socket);
  };
  const silent = knobs.usage === 'none';
  const sink = req.stream
    ? streamSink(
        ex,
        plans,
        meta,
        silent ? { ...req, includeUsage: false } : req,
        promptTokens,
        drop,
      )
    : bufferedSink(ex, plans, meta, promptTokens, drop, silent);
  const generation = new Generation(plans, knobs, sink, (n) => outcome.tokens(n));
  outcome.generation = generation;
  ctx.active.add(generation);
  generation.start();
}

function onDrain(ex: Exchange) {
  return (resume: () => void) => ex.res.once('drain', resume);
}

function streamSink(
  ex: Exchange,
  plans: readonly ChoicePlan[],
  meta: CompletionMeta,
  req: ChatRequest,
  promptTokens: number,
  drop: () => void,
): GenerationSink {
  const sse = new SseWriter(ex.res);
  const chunks = new ChunkFactory(meta, {
    includeUsage: req.includeUsage,
    includeObfuscation: req.includeObfuscation,
  });
  sse.open(ex.headers(rateLimitHeaders(false)));
  return {
    begin: () => plans.forEach((p) => sse.event(chunks.role(p))),
    step: (p, s) => chunks.step(p, s).forEach((c) => sse.event(c)),
    finishChoice: (p) => sse.event(chunks.finish(p)),
    end() {
      if (req.includeUsage) {
        const completionTokens = plans.reduce((sum, p) => sum + p.steps.length, 0);
        sse.event(chunks.usage(usage(promptTokens, completionTokens)));
      }
      sse.done();
    },
    cut() {
      sse.flush();
      drop();
    },
    flush: () => sse.flush(),
    onDrain: onDrain(ex),
  };
}

function bufferedSink(
  ex: Exchange,
  plans: readonly ChoicePlan[],
  meta: CompletionMeta,
  promptTokens: number,
  drop: () => void,
  silent = false,
): GenerationSink {
  const body = () => {
    const c: Partial<ReturnType<typeof chatCompletion>> = chatCompletion(meta, plans, promptTokens);
    if (silent) delete c.usage;
    return c;
  };
  let begun = false;
  return {
    begin: () => {
      begun = true;
    },
    step: () => {},
    finishChoice: () => {},
    end: () => ex.json(200, body(), rateLimitHeaders(false)),
    cut() {
      // before the first token: headers only; after it: half of the body.
      const payload = JSON.stringify(body());
      ex.res.writeHead(200, {
        ...ex.headers(rateLimitHeaders(false)),
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(payload)),
      });
      if (begun) ex.res.write(payload.slice(0, Math.floor(payload.length / 2)));
      else ex.res.flushHeaders();
      drop();
    },
    flush: () => true,
    onDrain: onDrain(ex),
  };
}
