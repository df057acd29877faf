/**
 * The `POST /v1/chat/completions` request: a zod 4 schema faithful to OpenAI's
 * `CreateChatCompletionRequest`, plus OpenRouter's extensions, and
 * {@link parseChatCompletionRequest} which turns the first validation issue
 * into an OpenAI-style 400.
 *
 * Strictness policy:
 * - Types, enums and ranges are checked strictly.
 * - Unknown top-level fields pass through untouched (they are forwarded to
 *   OpenAI-compatible upstreams). Messages, content parts, tools, tool calls,
 *   response formats etc. are loose objects as well: providers and OpenRouter
 *   add fields there (`cache_control`, `reasoning_details`, ...).
 * - OpenRouter's request fields that Turnpike does not implement yet
 *   (`transforms`, `plugins`, `session_id`, `debug`, `trace`, server tools in
 *   `tools`, `provider.*` extras such as `zdr` or `preferred_max_latency`,
 *   quantization names we do not know, ...) are accepted and ignored, never a
 *   400: a request that OpenRouter serves must not be refused here. So the
 *   `provider` object is loose too.
 * - `model` may be omitted when `models` names the models to try: the first
 *   entry is then the primary (OpenRouter's fallback example), and the parsed
 *   request carries it as `model`.
 *
 * Hot path: the schema is built and AOT-compiled (`z.compile`) once at module
 * load; per request there is one `safeParse` plus a linear pass of cross-field
 * checks.
 */
import { z } from 'zod';
import { type ApiError, invalidRequest } from './errors.js';

// ---------------------------------------------------------------------------
// Building blocks
// ---------------------------------------------------------------------------

/**
 * Custom error messages that start with "expected " are descriptions of the
 * valid values; the formatter below wraps them as
 * "Invalid value for '<param>': expected ..., got <value>."
 */
function expected(desc: string): { error: string } {
  return { error: `expected ${desc}` };
}

function numberBetween(min: number, max: number): z.ZodNumber {
  const e = expected(`a number between ${min} and ${max}`);
  return z.number().min(min, e).max(max, e);
}

/** `z.int()` reports a string as "expected number"; say "integer" instead. */
function int(): z.ZodInt {
  return z.int(expected('an integer'));
}

function intBetween(min: number, max: number): z.ZodInt {
  const e = expected(`an integer between ${min} and ${max}`);
  return int().min(min, e).max(max, e);
}

function intAtLeast(min: number): z.ZodInt {
  return int().min(min, expected(`an integer greater than or equal to ${min}`));
}

/** Integer without the safe-integer limit (`seed` is an int64 in the spec). */
const anyInteger = z
  .number()
  .refine(Number.isInteger, { error: 'expected an integer', params: { kind: 'type' } });

/** `^[a-zA-Z0-9_-]{1,64}$`, used by function names and json_schema names. */
export const FUNCTION_NAME_PATTERN = /^[a-zA-Z0-9_-]{1,64}$/;
const functionName = z.string().regex(FUNCTION_NAME_PATTERN);

/** A JSON object (not an array, not null): JSON Schema documents, function parameters. */
const jsonObject = z.record(z.string(), z.unknown());

const promptCacheBreakpoint = z.looseObject({ mode: z.literal('explicit') });

// ---------------------------------------------------------------------------
// Content parts
// ---------------------------------------------------------------------------

export const textContentPartSchema = z.looseObject({
  type: z.literal('text'),
  text: z.string(),
  prompt_cache_breakpoint: promptCacheBreakpoint.optional(),
});

export const imageContentPartSchema = z.looseObject({
  type: z.literal('image_url'),
  image_url: z.looseObject({
    /** An http(s) URL or a `data:` URL. */
    url: z.string().min(1),
    /** `original` is an OpenRouter extension. */
    detail: z.enum(['auto', 'low', 'high', 'original']).optional(),
  }),
  prompt_cache_breakpoint: promptCacheBreakpoint.optional(),
});

export const audioContentPartSchema = z.looseObject({
  type: z.literal('input_audio'),
  input_audio: z.looseObject({
    data: z.string(),
    /** OpenAI: wav | mp3. The rest are formats OpenRouter lists for other providers. */
    format: z.enum(['wav', 'mp3', 'flac', 'm4a', 'ogg', 'aiff', 'aac', 'pcm16', 'pcm24']),
  }),
  prompt_cache_breakpoint: promptCacheBreakpoint.optional(),
});

export const fileContentPartSchema = z.looseObject({
  type: z.literal('file'),
  file: z.looseObject({
    file_data: z.string().optional(),
    file_id: z.string().optional(),
    filename: z.string().optional(),
  }),
  prompt_cache_breakpoint: promptCacheBreakpoint.optional(),
});

/** OpenRouter extension. */
export const videoContentPartSchema = z.looseObject({
  type: z.literal('video_url'),
  video_url: z.looseObject({ url: z.string().min(1) }),
});

/** OpenRouter's older name of the video part (`@openrouter/sdk`'s `LegacyChatContentVideo`). */
export const inputVideoContentPartSchema = z.looseObject({
  type: z.literal('input_video'),
  video_url: z.looseObject({ url: z.string().min(1) }),
});

export const refusalContentPartSchema = z.looseObject({
  type: z.literal('refusal'),
  refusal: z.string(),
});

const userContentPart = z.discriminatedUnion('type', [
  textContentPartSchema,
  imageContentPartSchema,
  audioContentPartSchema,
  fileContentPartSchema,
  videoContentPartSchema,
  inputVideoContentPartSchema,
]);

const assistantContentPart = z.discriminatedUnion('type', [
  textContentPartSchema,
  refusalContentPartSchema,
]);

/** Text-only content: a string or a non-empty array of text parts. */
const textContent = z.union([
  z.string(),
  z.array(z.discriminatedUnion('type', [textContentPartSchema])).min(1),
]);

// ---------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------

export const functionToolCallSchema = z.looseObject({
  id: z.string(),
  type: z.literal('function'),
  function: z.looseObject({ name: z.string(), arguments: z.string() }),
});

export const customToolCallSchema = z.looseObject({
  id: z.string(),
  type: z.literal('custom'),
  custom: z.looseObject({ name: z.string(), input: z.string() }),
});

export const toolCallSchema = z.discriminatedUnion('type', [
  functionToolCallSchema,
  customToolCallSchema,
]);

export const developerMessageSchema = z.looseObject({
  role: z.literal('developer'),
  content: textContent,
  name: z.string().optional(),
});

export const systemMessageSchema = z.looseObject({
  role: z.literal('system'),
  content: textContent,
  name: z.string().optional(),
});

export const userMessageSchema = z.looseObject({
  role: z.literal('user'),
  content: z.union([z.string(), z.array(userContentPart).min(1)]),
  name: z.string().optional(),
});

/**
 * `content` may be null or absent only when `tool_calls`, `function_call`,
 * `audio` or `refusal` carry the turn — checked after parsing (see
 * {@link parseChatCompletionRequest}).
 */
export const assistantMessageSchema = z.looseObject({
  role: z.literal('assistant'),
  content: z
    .union([z.string(), z.array(assistantContentPart).min(1)])
    .nullable()
    .optional(),
  refusal: z.string().nullable().optional(),
  name: z.string().optional(),
  audio: z.looseObject({ id: z.string() }).nullable().optional(),
  tool_calls: z.array(toolCallSchema).optional(),
  /** Deprecated. */
  function_call: z.looseObject({ name: z.string(), arguments: z.string() }).nullable().optional(),
  /** OpenRouter: reasoning text of a previous turn. */
  reasoning: z.string().nullable().optional(),
});

/**
 * OpenAI allows text parts only; OpenRouter accepts any user content part in
 * tool results (images returned by tools), so we do too.
 */
export const toolMessageSchema = z.looseObject({
  role: z.literal('tool'),
  content: z.union([z.string(), z.array(userContentPart).min(1)]),
  tool_call_id: z.string(),
});

/** Deprecated. */
export const functionMessageSchema = z.looseObject({
  role: z.literal('function'),
  content: z.string().nullable(),
  name: z.string(),
});

export const chatMessageSchema = z.discriminatedUnion('role', [
  developerMessageSchema,
  systemMessageSchema,
  userMessageSchema,
  assistantMessageSchema,
  toolMessageSchema,
  functionMessageSchema,
]);

// ---------------------------------------------------------------------------
// Tools
// ---------------------------------------------------------------------------

export const functionDefinitionSchema = z.looseObject({
  name: functionName,
  description: z.string().optional(),
  /** A JSON Schema object. Omitted = no parameters. */
  parameters: jsonObject.optional(),
  strict: z.boolean().nullable().optional(),
});

export const functionToolSchema = z.looseObject({
  type: z.literal('function'),
  function: functionDefinitionSchema,
});

export const customToolSchema = z.looseObject({
  type: z.literal('custom'),
  custom: z.looseObject({
    name: z.string().min(1),
    description: z.string().optional(),
    format: z
      .discriminatedUnion('type', [
        z.looseObject({ type: z.literal('text') }),
        z.looseObject({
          type: z.literal('grammar'),
          grammar: z.looseObject({ definition: z.string(), syntax: z.enum(['lark', 'regex']) }),
        }),
      ])
      .optional(),
  }),
});

/**
 * OpenRouter's server tools (the tool types of `@openrouter/sdk` 1.3.19's `ChatFunctionTool`):
 * accepted and ignored, never sent upstream (the connector drops them).
 */
export const SERVER_TOOL_TYPES = [
  'openrouter:advisor',
  'openrouter:bash',
  'openrouter:datetime',
  'openrouter:files',
  'openrouter:fusion',
  'openrouter:image_generation',
  'openrouter:experimental__search_models',
  'openrouter:subagent',
  'openrouter:web_fetch',
  'openrouter:web_search',
  'web_search',
  'web_search_preview',
  'web_search_preview_2025_03_11',
  'web_search_2025_08_26',
] as const;

export const serverToolSchema = z.looseObject({ type: z.enum(SERVER_TOOL_TYPES) });

/** `function` and `custom` tools are checked strictly; OpenRouter's server tools pass. */
export const chatToolSchema = z.discriminatedUnion('type', [
  functionToolSchema,
  customToolSchema,
  serverToolSchema,
]);

/** Whether a tool is one the upstream executes (not an OpenRouter server tool). */
export function isClientTool(tool: { type: string }): boolean {
  return tool.type === 'function' || tool.type === 'custom';
}

export const toolChoiceSchema = z.union([
  z.enum(['none', 'auto', 'required']),
  z.discriminatedUnion('type', [
    z.looseObject({ type: z.literal('function'), function: z.looseObject({ name: z.string() }) }),
    z.looseObject({ type: z.literal('custom'), custom: z.looseObject({ name: z.string() }) }),
    z.looseObject({
      type: z.literal('allowed_tools'),
      allowed_tools: z.looseObject({
        mode: z.enum(['auto', 'required']),
        tools: z.array(z.looseObject({ type: z.string() })),
      }),
    }),
  ]),
]);

/** Deprecated `functions` entry. */
export const legacyFunctionSchema = z.looseObject({
  name: functionName,
  description: z.string().optional(),
  parameters: jsonObject.optional(),
});

// ---------------------------------------------------------------------------
// Response format & misc OpenAI objects
// ---------------------------------------------------------------------------

export const responseFormatSchema = z.discriminatedUnion('type', [
  z.looseObject({ type: z.literal('text') }),
  z.looseObject({ type: z.literal('json_object') }),
  z.looseObject({
    type: z.literal('json_schema'),
    json_schema: z.looseObject({
      name: functionName,
      description: z.string().optional(),
      schema: jsonObject.optional(),
      strict: z.boolean().nullable().optional(),
    }),
  }),
  /** OpenRouter extensions. */
  z.looseObject({ type: z.literal('grammar'), grammar: z.string() }),
  z.looseObject({ type: z.literal('python') }),
]);

export const streamOptionsSchema = z.looseObject({
  include_usage: z.boolean().optional(),
  include_obfuscation: z.boolean().optional(),
});

export const REASONING_EFFORTS = [
  'none',
  'minimal',
  'low',
  'medium',
  'high',
  'xhigh',
  'max',
] as const;
const reasoningEffort = z.enum(REASONING_EFFORTS);

export const SERVICE_TIERS = ['auto', 'default', 'flex', 'scale', 'priority', 'fast'] as const;

const audioOutput = z.looseObject({
  voice: z.union([z.string(), z.strictObject({ id: z.string() })]),
  format: z.enum(['wav', 'aac', 'mp3', 'flac', 'opus', 'pcm16']),
});

const prediction = z.looseObject({
  type: z.literal('content'),
  content: textContent,
});

const webSearchOptions = z.looseObject({
  user_location: z
    .looseObject({
      type: z.literal('approximate'),
      approximate: z.looseObject({
        country: z.string().optional(),
        region: z.string().optional(),
        city: z.string().optional(),
        timezone: z.string().optional(),
      }),
    })
    .nullable()
    .optional(),
  search_context_size: z.enum(['low', 'medium', 'high']).optional(),
});

const moderation = z.looseObject({
  model: z.string(),
  policy: z.looseObject({}).nullable().optional(),
});

const promptCacheOptions = z.looseObject({
  ttl: z.string().optional(),
  mode: z.enum(['implicit', 'explicit']).optional(),
});

/** Token id (a string of digits) → bias in [-100, 100]. */
const logitBias = z.record(
  z.string().regex(/^\d+$/, expected('a token ID (a string of digits)')),
  numberBetween(-100, 100),
);

// ---------------------------------------------------------------------------
// OpenRouter extensions
// ---------------------------------------------------------------------------

export const QUANTIZATIONS = [
  'int4',
  'int8',
  'fp4',
  'mxfp4',
  'nvfp4',
  'fp6',
  'fp8',
  'mxfp8',
  'fp16',
  'bf16',
  'fp32',
  'unknown',
] as const;

export const PROVIDER_SORTS = ['price', 'throughput', 'latency', 'exacto'] as const;

/**
 * Dollars per million tokens (prompt/completion) or per unit (request, image,
 * audio). OpenRouter documents strings, older docs numbers: both are accepted
 * and the parsed value is always a number.
 */
const price = z.union([
  z.number().min(0, expected('a non-negative number')),
  z
    .string()
    .regex(/^\d+(\.\d+)?$/, expected('a non-negative number or a numeric string'))
    .transform(Number),
]);

const percentileCutoffs = z.looseObject({
  p50: z.number().nullable().optional(),
  p75: z.number().nullable().optional(),
  p90: z.number().nullable().optional(),
  p99: z.number().nullable().optional(),
});

const providerSlugs = z.array(z.string().min(1)).nullable().optional();

/**
 * Turnpike's per-request time limits in the `provider` object (milliseconds), clamped into
 * these bounds: a request may tighten or loosen the gateway's defaults, not disable them.
 */
export const PROVIDER_TIMEOUT_BOUNDS_MS = { min: 1000, max: 60_000 } as const;

/** A non-negative integer of milliseconds, clamped into {@link PROVIDER_TIMEOUT_BOUNDS_MS}. */
const timeoutMs = intAtLeast(0).transform((n) =>
  Math.min(PROVIDER_TIMEOUT_BOUNDS_MS.max, Math.max(PROVIDER_TIMEOUT_BOUNDS_MS.min, n)),
);

export const providerPreferencesSchema = z.looseObject({
  order: providerSlugs,
  only: providerSlugs,
  ignore: providerSlugs,
  allow_fallbacks: z.boolean().nullable().optional(),
  require_parameters: z.boolean().nullable().optional(),
  data_collection: z.enum(['allow', 'deny']).nullable().optional(),
  zdr: z.boolean().nullable().optional(),
  enforce_distillable_text: z.boolean().nullable().optional(),
  sort: z
    .union([
      z.enum(PROVIDER_SORTS),
      z.looseObject({
        by: z.enum(PROVIDER_SORTS).nullable().optional(),
        partition: z.enum(['model', 'none']).nullable().optional(),
      }),
    ])
    .nullable()
    .optional(),
  max_price: z
    .looseObject({
      prompt: price.optional(),
      completion: price.optional(),
      request: price.optional(),
      image: price.optional(),
      audio: price.optional(),
    })
    .optional(),
  /** Names outside {@link QUANTIZATIONS} are accepted: they match no endpoint. */
  quantizations: z.array(z.string()).nullable().optional(),
  preferred_max_latency: z
    .union([z.number().min(0, expected('a non-negative number')), percentileCutoffs])
    .nullable()
    .optional(),
  preferred_min_throughput: z
    .union([z.number().min(0, expected('a non-negative number')), percentileCutoffs])
    .nullable()
    .optional(),
  /**
   * Turnpike extension: the longest silence between two chunks of a streamed attempt before it
   * is ended as stalled and the answer resumed elsewhere (clamped to 1-60 s).
   */
  stall_timeout_ms: timeoutMs.nullable().optional(),
  /**
   * Turnpike extension: how long a streamed attempt that is not the last candidate may take to
   * its first token before the next candidate is tried (clamped to 1-60 s).
   */
  first_token_timeout_ms: timeoutMs.nullable().optional(),
});

export const reasoningConfigSchema = z.looseObject({
  effort: reasoningEffort.nullable().optional(),
  max_tokens: intAtLeast(0).nullable().optional(),
  exclude: z.boolean().optional(),
  enabled: z.boolean().optional(),
  summary: z.enum(['auto', 'concise', 'detailed']).nullable().optional(),
});

// ---------------------------------------------------------------------------
// The request
// ---------------------------------------------------------------------------

const chatCompletionRequestObject = z.looseObject({
  // --- required (`model` may be left out when `models` is given)
  model: z.string().min(1).optional(),
  messages: z.array(chatMessageSchema).min(1),

  // --- streaming
  stream: z.boolean().nullable().optional(),
  stream_options: streamOptionsSchema.nullable().optional(),

  // --- token limits & sampling
  max_tokens: intAtLeast(1).nullable().optional(),
  max_completion_tokens: intAtLeast(1).nullable().optional(),
  temperature: numberBetween(0, 2).nullable().optional(),
  top_p: numberBetween(0, 1).nullable().optional(),
  n: intBetween(1, 128).nullable().optional(),
  presence_penalty: numberBetween(-2, 2).nullable().optional(),
  frequency_penalty: numberBetween(-2, 2).nullable().optional(),
  logit_bias: logitBias.nullable().optional(),
  logprobs: z.boolean().nullable().optional(),
  top_logprobs: intBetween(0, 20).nullable().optional(),
  seed: anyInteger.nullable().optional(),
  stop: z
    .union([z.string(), z.array(z.string()).min(1).max(4)])
    .nullable()
    .optional(),

  // --- tools
  tools: z.array(chatToolSchema).optional(),
  tool_choice: toolChoiceSchema.optional(),
  parallel_tool_calls: z.boolean().nullable().optional(),
  /** Deprecated. */
  functions: z.array(legacyFunctionSchema).min(1).max(128).optional(),
  /** Deprecated. */
  function_call: z
    .union([z.enum(['none', 'auto']), z.looseObject({ name: z.string() })])
    .optional(),

  // --- output shaping
  response_format: responseFormatSchema.optional(),
  modalities: z
    .array(z.enum(['text', 'audio', 'image']))
    .nullable()
    .optional(),
  audio: audioOutput.nullable().optional(),
  prediction: prediction.nullable().optional(),
  reasoning_effort: reasoningEffort.nullable().optional(),
  verbosity: z.enum(['low', 'medium', 'high']).nullable().optional(),
  web_search_options: webSearchOptions.optional(),

  // --- bookkeeping
  /** Deprecated in favour of `safety_identifier` / `prompt_cache_key`. */
  user: z.string().optional(),
  safety_identifier: z.string().max(64).nullable().optional(),
  prompt_cache_key: z.string().nullable().optional(),
  prompt_cache_retention: z.enum(['in_memory', '24h']).nullable().optional(),
  prompt_cache_options: promptCacheOptions.optional(),
  /** ≤16 pairs, keys ≤64 chars, values ≤512 chars (checked after parsing). */
  metadata: z.record(z.string(), z.string()).nullable().optional(),
  store: z.boolean().nullable().optional(),
  service_tier: z.enum(SERVICE_TIERS).nullable().optional(),
  moderation: moderation.nullable().optional(),

  // --- OpenRouter extensions
  models: z.array(z.string().min(1)).optional(),
  provider: providerPreferencesSchema.nullable().optional(),
  /** Deprecated OpenRouter alias of `provider.sort.partition`. */
  route: z.enum(['fallback', 'sort']).nullable().optional(),
  transforms: z.array(z.string()).optional(),
  reasoning: reasoningConfigSchema.optional(),
  usage: z.looseObject({ include: z.boolean().optional() }).optional(),
  plugins: z.array(z.looseObject({ id: z.string() })).optional(),
  session_id: z.string().max(256).optional(),
  top_k: intAtLeast(0).nullable().optional(),
  repetition_penalty: z
    .number()
    .gt(0, expected('a number greater than 0 and at most 2'))
    .max(2, expected('a number greater than 0 and at most 2'))
    .nullable()
    .optional(),
  min_p: numberBetween(0, 1).nullable().optional(),
  top_a: numberBetween(0, 1).nullable().optional(),
});

/** The compiled request schema (structural validation only; see {@link parseChatCompletionRequest}). */
export const chatCompletionRequestSchema = z.compile(chatCompletionRequestObject);

// ---------------------------------------------------------------------------
// Types
// ---------------------------------------------------------------------------

/** A validated request: `model` is always set (from `models[0]` when the client left it out). */
export type ChatCompletionRequest = z.output<typeof chatCompletionRequestObject> & {
  model: string;
};
/** What a client may send (differs from the parsed value only in `provider.max_price` strings). */
export type ChatCompletionRequestInput = z.input<typeof chatCompletionRequestObject>;

export type ChatMessage = z.output<typeof chatMessageSchema>;
export type ChatMessageRole = ChatMessage['role'];
export type DeveloperMessage = z.output<typeof developerMessageSchema>;
export type SystemMessage = z.output<typeof systemMessageSchema>;
export type UserMessage = z.output<typeof userMessageSchema>;
export type AssistantMessage = z.output<typeof assistantMessageSchema>;
export type ToolMessage = z.output<typeof toolMessageSchema>;
export type FunctionMessage = z.output<typeof functionMessageSchema>;

export type TextContentPart = z.output<typeof textContentPartSchema>;
export type ImageContentPart = z.output<typeof imageContentPartSchema>;
export type AudioContentPart = z.output<typeof audioContentPartSchema>;
export type FileContentPart = z.output<typeof fileContentPartSchema>;
export type VideoContentPart = z.output<typeof videoContentPartSchema>;
export type RefusalContentPart = z.output<typeof refusalContentPartSchema>;
export type UserContentPart = z.output<typeof userContentPart>;
export type AssistantContentPart = z.output<typeof assistantContentPart>;
export type ChatContentPart = UserContentPart | RefusalContentPart;

export type ToolCall = z.output<typeof toolCallSchema>;
export type FunctionToolCall = z.output<typeof functionToolCallSchema>;
export type CustomToolCall = z.output<typeof customToolCallSchema>;
export type ChatTool = z.output<typeof chatToolSchema>;
export type FunctionTool = z.output<typeof functionToolSchema>;
export type CustomTool = z.output<typeof customToolSchema>;
export type FunctionDefinition = z.output<typeof functionDefinitionSchema>;
export type ToolChoice = z.output<typeof toolChoiceSchema>;
export type LegacyFunction = z.output<typeof legacyFunctionSchema>;
export type ResponseFormat = z.output<typeof responseFormatSchema>;
export type StreamOptions = z.output<typeof streamOptionsSchema>;
export type ReasoningEffort = (typeof REASONING_EFFORTS)[number];
export type ServiceTier = (typeof SERVICE_TIERS)[number];
export type ProviderPreferences = z.output<typeof providerPreferencesSchema>;
export type ProviderSort = (typeof PROVIDER_SORTS)[number];
export type Quantization = (typeof QUANTIZATIONS)[number];
export type ReasoningConfig = z.output<typeof reasoningConfigSchema>;

export type ParseResult<T> = { ok: true; value: T } | { ok: false; error: ApiError };

// ---------------------------------------------------------------------------
// Parsing
// ---------------------------------------------------------------------------

/**
 * Validates a parsed JSON body. Never throws. On success `value` is a fresh
 * copy of the body with every unknown field preserved; on failure `error` is a
 * 400 `invalid_request_error` whose `param` is the path of the first problem
 * (`messages[1].tool_call_id`, `temperature`, ...; null when the body itself is
 * not an object).
 */
export function parseChatCompletionRequest(body: unknown): ParseResult<ChatCompletionRequest> {
  const notObject = nonObjectBodyError(body);
  if (notObject !== undefined) return { ok: false, error: notObject };
  const result = parseWithSchema(chatCompletionRequestSchema, body);
  if (!result.ok) return result;
  const data = result.value;
  if (data.model === undefined) {
    const primary = data.models?.[0];
    if (primary === undefined) {
      return {
        ok: false,
        error: invalidRequest(
          data.models === undefined
            ? "Missing required parameter: 'model'."
            : "Missing required parameter: 'model' (or a non-empty 'models' list).",
          'model',
        ),
      };
    }
    data.model = primary;
  }
  const value = data as ChatCompletionRequest;
  const error = crossFieldError(value);
  return error === undefined ? { ok: true, value } : { ok: false, error };
}

/** The 400 for a body that is not a JSON object; undefined when it is one. */
export function nonObjectBodyError(body: unknown): ApiError | undefined {
  if (typeof body === 'object' && body !== null && !Array.isArray(body)) return undefined;
  return invalidRequest(
    body === undefined
      ? 'Missing request body: expected a JSON object.'
      : `Invalid request body: expected a JSON object, but got ${kindOf(body)} instead.`,
  );
}

/**
 * Validates a body with any zod schema (the admin API's, say). Never throws. On failure `error`
 * is a 400 worded like the chat request's: the first problem, its `param` the path to it
 * (`pricing.prompt`; an unknown field of a strict object is named itself).
 */
export function parseWithSchema<T>(schema: z.ZodType<T>, body: unknown): ParseResult<T> {
  const result = schema.safeParse(body);
  if (result.success) return { ok: true, value: result.data };
  const issue = result.error.issues[0];
  return {
    ok: false,
    error: issue === undefined ? invalidRequest('Invalid request.') : issueToError(issue, body, []),
  };
}

/** Checks that involve more than one field (or are awkward in zod). First failure wins. */
function crossFieldError(req: ChatCompletionRequest): ApiError | undefined {
  if (req.stream_options != null && req.stream !== true) {
    return invalidRequest(
      "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
      'stream_options',
    );
  }

  for (let i = 0; i < req.messages.length; i++) {
    const m = req.messages[i]!;
    if (m.role === 'assistant' && m.content == null) {
      const carried =
        (m.tool_calls !== undefined && m.tool_calls.length > 0) ||
        m.function_call != null ||
        m.audio != null ||
        typeof m.refusal === 'string';
      if (!carried) {
        const param = `messages[${i}].content`;
        return m.content === undefined
          ? invalidRequest(`Missing required parameter: '${param}'.`, param)
          : invalidRequest(
              `Invalid value for '${param}': expected a string or an array of content parts, got null. ` +
                "An assistant message's content may only be null when it has 'tool_calls' or 'function_call'.",
              param,
            );
      }
    } else if (m.role === 'user' && Array.isArray(m.content)) {
      for (let j = 0; j < m.content.length; j++) {
        const part = m.content[j]!;
        if (
          part.type === 'file' &&
          part.file.file_data === undefined &&
          part.file.file_id === undefined
        ) {
          const param = `messages[${i}].content[${j}].file`;
          return invalidRequest(
            `Invalid value for '${param}': expected one of 'file_data' or 'file_id' to be set.`,
            param,
          );
        }
      }
    }
  }

  const tc = req.tool_choice;
  if (tc !== undefined && tc !== 'none' && tc !== 'auto') {
    const tools = req.tools ?? [];
    if (tc === 'required') {
      if (tools.length === 0) {
        return invalidRequest(
          "Invalid value for 'tool_choice': 'required' is only allowed when 'tools' are specified.",
          'tool_choice',
        );
      }
    } else if (tc.type === 'function') {
      const name = tc.function.name;
      if (!tools.some((t) => t.type === 'function' && (t as FunctionTool).function.name === name)) {
        return invalidRequest(
          `Invalid value for 'tool_choice': no function named '${truncate(name, 64)}' is declared in 'tools'.`,
          'tool_choice.function.name',
        );
      }
    } else if (tc.type === 'custom') {
      const name = tc.custom.name;
      if (!tools.some((t) => t.type === 'custom' && (t as CustomTool).custom.name === name)) {
        return invalidRequest(
          `Invalid value for 'tool_choice': no custom tool named '${truncate(name, 64)}' is declared in 'tools'.`,
          'tool_choice.custom.name',
        );
      }
    }
  }

  const fc = req.function_call;
  if (typeof fc === 'object' && fc !== null) {
    if (!(req.functions ?? []).some((f) => f.name === fc.name)) {
      return invalidRequest(
        `Invalid value for 'function_call': no function named '${truncate(fc.name, 64)}' is declared in 'functions'.`,
        'function_call.name',
      );
    }
  }

  const md = req.metadata;
  if (md != null) {
    const keys = Object.keys(md);
    if (keys.length > 16) {
      return invalidRequest(
        `Invalid 'metadata': too many properties. Expected an object with at most 16 properties, but got an object with ${keys.length} properties instead.`,
        'metadata',
      );
    }
    for (const key of keys) {
      if (key.length > 64) {
        return invalidRequest(
          `Invalid 'metadata': key too long. Expected keys with maximum length 64, but got a key with length ${key.length} instead.`,
          'metadata',
        );
      }
      const value = md[key]!;
      if (value.length > 512) {
        const param = `metadata.${key}`;
        return invalidRequest(
          `Invalid '${param}': string too long. Expected a string with maximum length 512, but got a string with length ${value.length} instead.`,
          param,
        );
      }
    }
  }

  if (
    req.reasoning_effort != null &&
    req.reasoning?.effort != null &&
    req.reasoning_effort !== req.reasoning.effort
  ) {
    return invalidRequest(
      `Invalid value for 'reasoning_effort': it conflicts with 'reasoning.effort' ('${req.reasoning_effort}' vs '${req.reasoning.effort}'). Set only one of them.`,
      'reasoning_effort',
    );
  }

  return undefined;
}

// ---------------------------------------------------------------------------
// Issue → OpenAI-style error
// ---------------------------------------------------------------------------

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** `['messages', 0, 'content']` → `messages[0].content`; `[]` → null. */
export function formatParamPath(path: Path): string | null {
  let out = '';
  for (const seg of path) {
    if (typeof seg === 'number') out += `[${seg}]`;
    else out += out === '' ? String(seg) : `.${String(seg)}`;
  }
  return out === '' ? null : out;
}

function issueToError(issue: Issue, body: unknown, base: Path): ApiError {
  const path = [...base, ...issue.path];
  const input = valueAt(body, path);
  const param = formatParamPath(path);
  const label = param ?? 'body';

  // Anything missing, whatever the schema wanted there.
  if (
    input === undefined &&
    (issue.code === 'invalid_type' ||
      issue.code === 'invalid_value' ||
      issue.code === 'invalid_union')
  ) {
    return invalidRequest(`Missing required parameter: '${label}'.`, param);
  }

  switch (issue.code) {
    case 'invalid_type': {
      const desc = issue.message.startsWith('expected ')
        ? issue.message.slice('expected '.length)
        : describeExpected(issue.expected);
      return invalidRequest(
        `Invalid type for '${label}': expected ${desc}, but got ${kindOf(input)} instead.`,
        param,
      );
    }

    case 'invalid_union': {
      if (issue.errors.length === 0) {
        // Discriminated union with an unknown discriminator: `path` already ends with it.
        const options = 'options' in issue && Array.isArray(issue.options) ? issue.options : [];
        return invalidRequest(
          `Invalid value for '${label}': expected ${oneOf(options)}, got ${formatValue(input)}.`,
          param,
        );
      }
      const branch = pickUnionBranch(issue.errors, input);
      if (branch !== undefined) return issueToError(branch, body, path);
      const descs: string[] = [];
      for (const errs of issue.errors) {
        const first = errs[0];
        if (first === undefined) continue;
        const d =
          first.code === 'invalid_type'
            ? describeExpected(first.expected)
            : first.code === 'invalid_value' && first.values[0] !== undefined
              ? kindOf(first.values[0])
              : undefined;
        if (d !== undefined && !descs.includes(d)) descs.push(d);
      }
      return invalidRequest(
        `Invalid type for '${label}': expected ${joinOr(descs.length > 0 ? descs : ['a different type'])}, but got ${kindOf(input)} instead.`,
        param,
      );
    }

    case 'too_small':
    case 'too_big': {
      if (issue.message.startsWith('expected ')) {
        return invalidRequest(
          `Invalid value for '${label}': ${issue.message}, got ${formatValue(input)}.`,
          param,
        );
      }
      const small = issue.code === 'too_small';
      const bound = Number(small ? issue.minimum : issue.maximum);
      if (issue.origin === 'array' && Array.isArray(input)) {
        if (small && input.length === 0) {
          return invalidRequest(
            `Invalid '${label}': empty array. Expected an array with minimum length ${bound}, but got an empty array instead.`,
            param,
          );
        }
        return invalidRequest(
          `Invalid '${label}': array too ${small ? 'short' : 'long'}. Expected an array with ${small ? 'minimum' : 'maximum'} length ${bound}, but got an array with length ${input.length} instead.`,
          param,
        );
      }
      if (issue.origin === 'string' && typeof input === 'string') {
        if (small && input.length === 0) {
          return invalidRequest(
            `Invalid '${label}': empty string. Expected a string with minimum length ${bound}, but got an empty string instead.`,
            param,
          );
        }
        return invalidRequest(
          `Invalid '${label}': string too ${small ? 'short' : 'long'}. Expected a string with ${small ? 'minimum' : 'maximum'} length ${bound}, but got a string with length ${input.length} instead.`,
          param,
        );
      }
      const cmp = small
        ? issue.inclusive === false
          ? '>'
          : '>='
        : issue.inclusive === false
          ? '<'
          : '<=';
      return invalidRequest(
        `Invalid value for '${label}': expected a value ${cmp} ${bound}, got ${formatValue(input)}.`,
        param,
      );
    }

    case 'invalid_format': {
      if (issue.message.startsWith('expected ')) {
        return invalidRequest(
          `Invalid value for '${label}': ${issue.message}, got ${formatValue(input)}.`,
          param,
        );
      }
      const what =
        issue.format === 'regex' && issue.pattern !== undefined
          ? `a string matching the pattern '${stripRegexSlashes(issue.pattern)}'`
          : `a valid ${issue.format}`;
      return invalidRequest(
        `Invalid value for '${label}': expected ${what}, got ${formatValue(input)}.`,
        param,
      );
    }

    case 'invalid_value':
      return invalidRequest(
        `Invalid value for '${label}': expected ${oneOf(issue.values)}, got ${formatValue(input)}.`,
        param,
      );

    case 'unrecognized_keys': {
      const key = issue.keys[0] ?? '';
      const keyParam = formatParamPath([...path, key]);
      return invalidRequest(`Unrecognized request argument supplied: ${keyParam ?? key}`, keyParam);
    }

    case 'invalid_key': {
      // `path` ends with the offending key; report it against the containing object.
      const key = path[path.length - 1];
      const parent = formatParamPath(path.slice(0, -1));
      const inner = issue.issues[0];
      const desc = inner?.message.startsWith('expected ') ? inner.message : 'expected a valid key';
      return invalidRequest(
        `Invalid key in '${parent ?? 'body'}': ${desc}, got ${formatValue(String(key))}.`,
        parent,
      );
    }

    case 'custom': {
      if (issue.message.startsWith('expected ')) {
        const kind = (issue.params as { kind?: string } | undefined)?.kind;
        return kind === 'type'
          ? invalidRequest(
              `Invalid type for '${label}': ${issue.message}, but got ${kindOf(input)} instead.`,
              param,
            )
          : invalidRequest(
              `Invalid value for '${label}': ${issue.message}, got ${formatValue(input)}.`,
              param,
            );
      }
      return invalidRequest(issue.message, param);
    }

    default:
      return invalidRequest(`Invalid value for '${label}': ${issue.message}.`, param);
  }
}

/**
 * When every branch of a union failed: the branch to report is one whose value
 * had the right shape but failed deeper (or on a range/enum check). Branches
 * that failed only because the value has another type are ignored. The
 * deepest such issue wins. Undefined when all branches are type mismatches.
 */
function pickUnionBranch(
  branches: readonly (readonly Issue[])[],
  input: unknown,
): Issue | undefined {
  let best: Issue | undefined;
  for (const errs of branches) {
    const first = errs[0];
    if (first === undefined || isTypeMismatch(first, input)) continue;
    if (best === undefined || first.path.length > best.path.length) best = first;
  }
  return best;
}

function isTypeMismatch(issue: Issue, input: unknown): boolean {
  if (issue.path.length !== 0) return false;
  if (issue.code === 'invalid_type') return true;
  if (issue.code === 'invalid_value') return !issue.values.some((v) => typeof v === typeof input);
  return false;
}

function valueAt(root: unknown, path: Path): unknown {
  let cur: unknown = root;
  for (const seg of path) {
    if (typeof cur !== 'object' || cur === null) return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[seg];
  }
  return cur;
}

function describeExpected(expected: string): string {
  switch (expected) {
    case 'string':
      return 'a string';
    case 'number':
      return 'a number';
    case 'int':
      return 'an integer';
    case 'boolean':
      return 'a boolean';
    case 'object':
    case 'record':
      return 'an object';
    case 'array':
      return 'an array';
    case 'null':
      return 'null';
    default:
      return expected;
  }
}

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(v) ? 'an integer' : 'a decimal number';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

function formatValue(v: unknown): string {
  if (typeof v === 'string') return `'${truncate(v, 64)}'`;
  if (v === undefined) return 'nothing';
  let json: string | undefined;
  try {
    json = JSON.stringify(v);
  } catch {
    json = undefined;
  }
  return truncate(json ?? String(v), 64);
}

function oneOf(values: readonly unknown[]): string {
  const shown = values.map((v) => (typeof v === 'string' ? `'${v}'` : String(v)));
  if (shown.length === 1) return shown[0]!;
  return `one of ${joinOr(shown)}`;
}

function joinOr(items: readonly string[]): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(', ')} or ${items[items.length - 1]!}`;
}

function stripRegexSlashes(pattern: string): string {
  const m = /^\/(.*)\/[a-z]*$/s.exec(pattern);
  return m?.[1] ?? pattern;
}

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…`;
}
