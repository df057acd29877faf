/** Builders for OpenAI response objects: chat.completion, chat.completion.chunk, usage, models. */
import { obfuscation } from '../core/ids.js';
import { assembleChoice, type ChoicePlan, type Step, type ToolCallPlan } from '../core/plan.js';
import type { SimModel } from '../core/types.js';

/** Fixed `created` of the simulated models (2023-11-14). */
export const MODEL_CREATED = 1_700_000_000;

export interface CompletionMeta {
  id: string;
  created: number;
  model: string;
  systemFingerprint: string;
  serviceTier: string;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details: { cached_tokens: number; audio_tokens: number };
  completion_tokens_details: {
    reasoning_tokens: number;
    audio_tokens: number;
    accepted_prediction_tokens: number;
    rejected_prediction_tokens: number;
  };
}

/** The tier a response reports: `auto` (or none) is served as `default`; `fast` as `priority`. */
export function servedTier(requested: string | undefined): string {
  if (requested === 'flex' || requested === 'priority' || requested === 'scale') return requested;
  if (requested === 'fast') return 'priority';
  return 'default';
}

export function usage(
  promptTokens: number,
  completionTokens: number,
  details: { cached?: number; reasoning?: number } = {},
): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
    prompt_tokens_details: {
      cached_tokens: Math.min(promptTokens, details.cached ?? 0),
      audio_tokens: 0,
    },
    completion_tokens_details: {
      reasoning_tokens: details.reasoning ?? 0,
      audio_tokens: 0,
      accepted_prediction_tokens: 0,
      rejected_prediction_tokens: 0,
    },
  };
}

const toolCallJson = (c: ToolCallPlan) => ({
  id: c.id,
  type: 'function' as const,
  function: { name: c.name, arguments: c.arguments },
});

/** Usage of a whole answer: every step is a token; reasoning steps are thinking tokens. */
export function usageOf(plans: readonly ChoicePlan[], promptTokens: number, cached = 0): Usage {
  const completion = plans.reduce((sum, p) => sum + p.steps.length, 0);
  const reasoning = plans.reduce(
    (sum, p) => sum + p.steps.filter((s) => s.kind === 'reasoning').length,
    0,
  );
  return usage(promptTokens, completion, { cached, reasoning });
}

/** A non-streaming `chat.completion`. */
export function chatCompletion(
  meta: CompletionMeta,
  plans: readonly ChoicePlan[],
  promptTokens: number,
  opts: { cached?: number; reasoningField?: string } = {},
) {
  return {
    id: meta.id,
    object: 'chat.completion' as const,
    created: meta.created,
    model: meta.model,
    choices: plans.map((p) => {
      const { content, toolCalls, reasoning } = assembleChoice(p);
      return {
        index: p.index,
        message: {
          role: 'assistant' as const,
          content,
          refusal: null,
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls.map(toolCallJson) } : {}),
          ...(reasoning && opts.reasoningField ? { [opts.reasoningField]: reasoning } : {}),
          annotations: [],
        },
        logprobs: null,
        finish_reason: p.finishReason,
      };
    }),
    usage: usageOf(plans, promptTokens, opts.cached),
    service_tier: meta.serviceTier,
    system_fingerprint: meta.systemFingerprint,
  };
}

export interface ChunkOptions {
  /** `stream_options.include_usage`: adds `usage: null` to every chunk but the final usage one. */
  includeUsage: boolean;
  /** `stream_options.include_obfuscation` (default true). */
  includeObfuscation: boolean;
  /**
   * Where reasoning is streamed (`reasoning_content`, DeepSeek-style); OpenAI itself never
   * shows it: its reasoning tokens only appear in usage.
   */
  reasoningField?: string;
}

type Delta = Record<string, unknown>;

/** Builds the `chat.completion.chunk`s of one streamed completion. */
export class ChunkFactory {
  constructor(
    private readonly meta: CompletionMeta,
    private readonly opts: ChunkOptions,
  ) {}

  private chunk(choices: unknown[], usageValue: Usage | null) {
    return {
      id: this.meta.id,
      object: 'chat.completion.chunk' as const,
      created: this.meta.created,
      model: this.meta.model,
      service_tier: this.meta.serviceTier,
      system_fingerprint: this.meta.systemFingerprint,
      choices,
      ...(this.opts.includeUsage ? { usage: usageValue } : {}),
      ...(this.opts.includeObfuscation ? { obfuscation: obfuscation() } : {}),
    };
  }

  private choice(index: number, delta: Delta, finishReason: string | null = null) {
    return this.chunk([{ index, delta, logprobs: null, finish_reason: finishReason }], null);
  }

  private toolStart(plan: ChoicePlan, call: number) {
    const c = plan.toolCalls[call];
    return { index: call, id: c?.id, type: 'function', function: { name: c?.name, arguments: '' } };
  }

  /** The first chunk of a choice: the assistant role (and the start of its first tool call). */
  role(plan: ChoicePlan) {
    if (plan.mode === 'tool_calls' && plan.toolCalls.length > 0) {
      return this.choice(plan.index, {
        role: 'assistant',
        content: null,
        tool_calls: [this.toolStart(plan, 0)],
        refusal: null,
      });
    }
    return this.choice(plan.index, { role: 'assistant', content: '', refusal: null });
  }

  /** The chunks carrying one step (a later tool call's start chunk precedes its first fragment). */
  step(plan: ChoicePlan, step: Step) {
    if (step.kind === 'content') return [this.choice(plan.index, { content: step.text })];
    if (step.kind === 'reasoning')
      return this.opts.reasoningField
        ? [this.choice(plan.index, { [this.opts.reasoningField]: step.text })]
        : [];
    const out = [];
    if (step.first && step.call > 0)
      out.push(this.choice(plan.index, { tool_calls: [this.toolStart(plan, step.call)] }));
    out.push(
      this.choice(plan.index, {
        tool_calls: [{ index: step.call, function: { arguments: step.text } }],
      }),
    );
    return out;
  }

  finish(plan: ChoicePlan) {
    return this.choice(plan.index, {}, plan.finishReason);
  }

  usage(u: Usage) {
    return this.chunk([], u);
  }
}

export const modelObject = (m: SimModel) => ({
  id: m.id,
  object: 'model' as const,
  created: MODEL_CREATED,
  owned_by: 'system',
});

export const modelList = (models: readonly SimModel[]) => ({
  object: 'list' as const,
  data: models.map(modelObject),
});
