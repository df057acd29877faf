/**
 * What a wire protocol plugs into the simulator core. The core owns everything that does not
 * depend on the wire: knobs, the plan of what to say, the token clock, records, the control API,
 * faults (reset, cut, stall, error statuses). A protocol owns its routes, authentication, request
 * parsing, response framing (SSE events, JSON, AWS event-stream frames) and error bodies.
 */
import type { Exchange } from './http-util.js';
import type { GenerationSink } from './generation.js';
import type { ChoicePlan } from './plan.js';
import type { RecordStore } from './records.js';
import type { SimHttpError } from './sim-error.js';
import type { Generation } from './generation.js';
import type { Knobs, SimModel, SimRequestSummary } from './types.js';

export type ToolChoice = 'none' | 'auto' | 'required' | { name: string } | undefined;

export type ResponseFormat =
  { type: 'text' } | { type: 'json_object' } | { type: 'json_schema'; schema: unknown };

export interface FunctionTool {
  name: string;
  parameters: unknown;
}

/** A chat request in neutral terms: what the planner needs, whatever the wire. */
export interface SimChatRequest {
  model: string;
  stream: boolean;
  n: number;
  /** The output limit the request sets (`max_tokens`, `maxOutputTokens`, ...). */
  maxTokens?: number;
  tools: FunctionTool[];
  toolChoice: ToolChoice;
  responseFormat: ResponseFormat;
  /** Text of the last user message (directives included). */
  lastUserText: string;
  /** The text of every message (system included), for the prompt token count. */
  promptTexts: string[];
  /** The system prompt as the protocol carries it ('' when none). */
  systemText: string;
  /** Image parts in the conversation. */
  imageCount: number;
  /** Thinking was asked for (Anthropic `thinking`, Gemini `thinkingConfig`, ...). */
  reasoning?: { budgetTokens?: number };
  /** A trailing assistant message the model must continue (prefill), when the protocol has it. */
  prefill?: string;
  stop: string[];
}

/** Prompt tokens of the simulator: the sum over messages of `ceil(chars / 4) + 3`. */
export function countTextTokens(texts: readonly string[]): number {
  return texts.reduce((sum, t) => sum + Math.ceil(t.length / 4) + 3, 0);
}

/** State shared by the routes of one simulator. */
export interface SimContext {
  name: string;
  /** The first accepted API key (what a protocol's 401 for the `status` knob may quote). */
  apiKey?: string;
  /** AWS protocols: the access key id whose secret is `apiKey`. */
  accessKeyId?: string;
  /**
   * Every API key the simulator accepts right now (`--api-key`, then `POST /__sim/auth`: a key
   * rotation is a moment when old and new keys both work); empty: no authentication.
   */
  readonly apiKeys: readonly string[];
  models: ReadonlyMap<string, SimModel>;
  defaults(): Knobs;
  records: RecordStore;
  /** Generations in flight, cancelled when the simulator closes. */
  active: Set<Generation>;
  /** Requests seen per last user message, for the `fault_times` knob (cleared by a reset). */
  faultCounts: Map<string, number>;
}

export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
}

export interface SinkArgs<R extends SimChatRequest> {
  ex: Exchange;
  plans: readonly ChoicePlan[];
  req: R;
  meta: CompletionMeta;
  promptTokens: number;
  knobs: Knobs;
  /** Closes the connection mid-response (the `cut` knob). */
  drop: () => void;
  /** The `usage=none` knob: the upstream reports no usage. */
  silent: boolean;
}

/** One chat route of a protocol, run by `runChat`. */
export interface ChatDialect<R extends SimChatRequest = SimChatRequest> {
  /**
   * Checks the credentials; throws the protocol's 401/403. `rawBody` is the request body as
   * received, for protocols that sign it (AWS SigV4 hashes it).
   */
  authorize(ctx: SimContext, ex: Exchange, rawBody: Buffer): void;
  /** Validates the body (and the URL: Gemini and Bedrock put the model there). */
  parse(body: unknown, ex: Exchange, url: URL): R;
  invalidJson(): SimHttpError;
  badKnob(message: string): SimHttpError;
  modelNotFound(model: string): SimHttpError;
  contextLengthExceeded(max: number, actual: number): SimHttpError;
  /** The protocol's error for the `status` knob. */
  errorForStatus(
    status: number,
    ctx: { model: string; apiKey: string; retryAfterSec?: number; message?: string },
  ): SimHttpError;
  /** The credential the client sent (echoed redacted in some 401s). */
  credentialOf(ex: Exchange): string;
  streamSink(args: SinkArgs<R>): GenerationSink;
  bufferedSink(args: SinkArgs<R>): GenerationSink;
  /** A fresh response id (`chatcmpl-...`, `msg_...`). */
  completionId(): string;
}

/** A wire protocol: its routes and the shape of its errors. */
export interface SimProtocol {
  readonly name: string;
  /** Path the SDKs' base URL ends in (`/v1` for OpenAI; '' where the SDK adds the version). */
  readonly basePath: string;
  /** Headers on every response (request ids, versions). */
  responseHeaders(ex: Exchange): Record<string, string>;
  /** The body of an error response as sent (e.g. with the exchange's request id in it). */
  errorBody?(ex: Exchange, body: unknown): unknown;
  /** Serves one API request; false when no route matches. */
  route(ctx: SimContext, ex: Exchange, path: string, url: URL): Promise<boolean>;
  notFound(method: string, path: string): SimHttpError;
  internalError(): SimHttpError;
}

/** The record's summary of a parsed request. */
export function summarise(req: SimChatRequest): SimRequestSummary {
  return {
    system: req.systemText,
    messages: req.promptTexts,
    imageCount: req.imageCount,
    tools: req.tools.map((t) => t.name),
    stop: req.stop,
    ...(req.maxTokens !== undefined ? { maxTokens: req.maxTokens } : {}),
    reasoning: req.reasoning !== undefined,
    ...(req.prefill !== undefined ? { prefill: req.prefill } : {}),
    responseFormat: req.responseFormat.type,
    ...(typeof req.toolChoice === 'object' ? { forcedTool: req.toolChoice.name } : {}),
  };
}

/** Whether `credential` is accepted: any key when none is configured, else one of the keys. */
export function keyAccepted(
  ctx: Pick<SimContext, 'apiKeys'>,
  credential: string | null | undefined,
): boolean {
  if (ctx.apiKeys.length === 0) return true;
  return typeof credential === 'string' && ctx.apiKeys.includes(credential);
}
