import type { NativeTokens } from '@turnpike/contracts';
import type { Json } from './json.js';
import { openAIUsageOf } from './usage.js';

/**
 * What every decoder produces: OpenAI `chat.completion.chunk`s and `chat.completion`s, with
 * OpenRouter's extensions (`reasoning`, `reasoning_details`, `native_finish_reason`). Native
 * protocols describe their output in neutral terms (text, reasoning, a tool call starting,
 * argument text) and these builders give it OpenAI's shape, so the shapes are written once.
 */

export type FinishReason = 'stop' | 'length' | 'tool_calls' | 'content_filter' | 'error';

const OPENAI_FINISH = new Set<string>(['stop', 'length', 'tool_calls', 'content_filter']);

/**
 * A provider's finish reason in OpenAI's vocabulary: mapped by the provider's table, passed when
 * already OpenAI's (`function_call` is the legacy `tool_calls`), `stop` otherwise.
 */
export function normaliseFinish(
  native: string | null | undefined,
  table: Readonly<Record<string, FinishReason>> = {},
): FinishReason | null {
  if (typeof native !== 'string' || native === '') return null;
  const mapped = table[native] ?? table[native.toLowerCase()];
  if (mapped) return mapped;
  if (native === 'function_call') return 'tool_calls';
  return OPENAI_FINISH.has(native) ? (native as FinishReason) : 'stop';
}

export interface ReasoningDetail {
  type: 'reasoning.text' | 'reasoning.encrypted' | 'reasoning.summary';
  text?: string;
  signature?: string | null;
  data?: string;
  summary?: string;
  format: string;
  index: number;
  id?: string | null;
}

export interface ToolCallOut {
  id: string;
  name: string;
  arguments: string;
}

/** Builds the chunks of one streamed answer (one choice unless told otherwise). */
export class ChunkWriter {
  constructor(
    private readonly meta: { id: string; model: string; created: number },
    /** The `format` of reasoning details (`anthropic-claude-v1`, `google-gemini-v1`, ...). */
    private readonly reasoningFormat = 'unknown',
  ) {}

  private chunk(delta: Json, extra: Json = {}, index = 0): Json {
    return {
      id: this.meta.id,
      object: 'chat.completion.chunk',
      created: this.meta.created,
      model: this.meta.model,
      choices: [{ index, delta, finish_reason: null, ...extra }],
    };
  }

  /** The opening chunk: the assistant role with empty content. */
  role(index = 0): Json {
    return this.chunk({ role: 'assistant', content: '' }, {}, index);
  }

  text(text: string, index = 0): Json {
    return this.chunk({ content: text }, {}, index);
  }

  /**
   * A piece of reasoning, as `delta.reasoning` and one `reasoning_details` entry; `id` ties the
   * entry to a part of the answer (e.g. the tool call a Gemini thought signature belongs to).
   */
  reasoning(
    piece: { text?: string; signature?: string; data?: string; detailIndex: number; id?: string },
    index = 0,
  ): Json {
    const detail: ReasoningDetail =
      piece.data !== undefined
        ? {
            type: 'reasoning.encrypted',
            data: piece.data,
            format: this.reasoningFormat,
            index: piece.detailIndex,
          }
        : {
            type: 'reasoning.text',
            text: piece.text ?? '',
            signature: piece.signature ?? null,
            format: this.reasoningFormat,
            index: piece.detailIndex,
          };
    if (piece.id !== undefined) detail.id = piece.id;
    return this.chunk(
      { ...(piece.text ? { reasoning: piece.text } : {}), reasoning_details: [detail] },
      {},
      index,
    );
  }

  /** A tool call begins: its id, name and (usually empty) first arguments. */
  toolCallStart(toolIndex: number, id: string, name: string, args = '', index = 0): Json {
    return this.chunk(
      {
        tool_calls: [
          { index: toolIndex, id, type: 'function', function: { name, arguments: args } },
        ],
      },
      {},
      index,
    );
  }

  toolCallArgs(toolIndex: number, args: string, index = 0): Json {
    return this.chunk(
      { tool_calls: [{ index: toolIndex, function: { arguments: args } }] },
      {},
      index,
    );
  }

  finish(reason: FinishReason, native: string | null, index = 0): Json {
    return this.chunk({}, { finish_reason: reason, native_finish_reason: native }, index);
  }

  /** The usage chunk: no choices, OpenAI's usage object (include_usage's final chunk). */
  usage(tokens: NativeTokens): Json {
    return {
      id: this.meta.id,
      object: 'chat.completion.chunk',
      created: this.meta.created,
      model: this.meta.model,
      choices: [],
      usage: openAIUsageOf(tokens),
    };
  }
}

export interface CompletionParts {
  id: string;
  model: string;
  created: number;
  text: string | null;
  reasoning?: string;
  reasoningDetails?: ReasoningDetail[];
  toolCalls?: ToolCallOut[];
  refusal?: string | null;
  finishReason: FinishReason | null;
  nativeFinishReason: string | null;
  tokens: NativeTokens;
}

/** A whole `chat.completion` (one choice). */
export function buildCompletion(p: CompletionParts): Json {
  const message: Json = {
    role: 'assistant',
    content: p.text ?? (p.toolCalls && p.toolCalls.length > 0 ? null : ''),
    refusal: p.refusal ?? null,
  };
  if (p.reasoning) message['reasoning'] = p.reasoning;
  if (p.reasoningDetails && p.reasoningDetails.length > 0)
    message['reasoning_details'] = p.reasoningDetails;
  if (p.toolCalls && p.toolCalls.length > 0) {
    message['tool_calls'] = p.toolCalls.map((t) => ({
      id: t.id,
      type: 'function',
      function: { name: t.name, arguments: t.arguments },
    }));
  }
  return {
    id: p.id,
    object: 'chat.completion',
    created: p.created,
    model: p.model,
    choices: [
      {
        index: 0,
        message,
        logprobs: null,
        finish_reason: p.finishReason ?? 'stop',
        native_finish_reason: p.nativeFinishReason,
      },
    ],
    usage: openAIUsageOf(p.tokens),
  };
}

/** Epoch seconds, for `created`. */
export const nowSeconds = (): number => Math.floor(Date.now() / 1000);
