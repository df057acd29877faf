/** Builders of Anthropic response objects: `Message`, its usage, the SSE events, models. */
import { randomBytes } from 'node:crypto';
import { randomAlnum } from '../core/ids.js';
import type { ChoicePlan, FinishReason, Step } from '../core/plan.js';
import type { CompletionMeta } from '../core/protocol.js';
import type { Knobs, SimModel } from '../core/types.js';

/** `msg_01` + 22 alphanumerics, like Anthropic's message ids. */
export const messageId = (): string => `msg_01${randomAlnum(22)}`;
/** `toolu_01` + 22 alphanumerics. */
export const toolUseId = (): string => `toolu_01${randomAlnum(22)}`;
/** An opaque signature of a thinking block (base64, as Anthropic's). */
export const thinkingSignature = (): string => randomBytes(96).toString('base64');

export const STOP_REASONS: Readonly<Record<FinishReason, string>> = {
  stop: 'end_turn',
  length: 'max_tokens',
  tool_calls: 'tool_use',
};

export interface AnthropicUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  cache_creation: { ephemeral_5m_input_tokens: number; ephemeral_1h_input_tokens: number };
  output_tokens: number;
  output_tokens_details?: { thinking_tokens: number };
  service_tier: 'standard';
}

/**
 * Usage in Anthropic's convention: `input_tokens` EXCLUDES the tokens read from the cache
 * (`cached_tokens` knob) and written to it (`cache_write_tokens` knob); the three add up to the
 * prompt. `output_tokens` counts every output token, thinking included.
 */
export function usageOf(
  promptTokens: number,
  output: number,
  knobs: Knobs,
  thinkingTokens: number,
): AnthropicUsage {
  const read = Math.min(promptTokens, knobs.cachedTokens ?? 0);
  const write = Math.min(promptTokens - read, knobs.cacheWriteTokens ?? 0);
  return {
    input_tokens: promptTokens - read - write,
    cache_creation_input_tokens: write,
    cache_read_input_tokens: read,
    cache_creation: { ephemeral_5m_input_tokens: write, ephemeral_1h_input_tokens: 0 },
    output_tokens: output,
    ...(thinkingTokens > 0 ? { output_tokens_details: { thinking_tokens: thinkingTokens } } : {}),
    service_tier: 'standard',
  };
}

export const thinkingSteps = (plan: ChoicePlan): number =>
  plan.steps.filter((s) => s.kind === 'reasoning').length;

/** The tool_use ids of one answer (Anthropic's `toolu_...`, one per planned call). */
export function toolIds(plan: ChoicePlan): string[] {
  return plan.toolCalls.map(() => toolUseId());
}

type Block = Record<string, unknown>;

/** The content blocks of a whole answer, in the order a stream would open them. */
export function contentBlocks(plan: ChoicePlan, ids: readonly string[]): Block[] {
  const blocks: Block[] = [];
  let current: Block | null = null;
  const open = (b: Block) => {
    blocks.push(b);
    current = b;
  };
  const args: string[] = [];
  for (const s of plan.steps) {
    if (s.kind === 'reasoning') {
      if (current?.['type'] !== 'thinking') open({ type: 'thinking', thinking: '', signature: '' });
      current!['thinking'] = `${current!['thinking'] as string}${s.text}`;
    } else if (s.kind === 'content') {
      if (current?.['type'] !== 'text') open({ type: 'text', text: '' });
      current!['text'] = `${current!['text'] as string}${s.text}`;
    } else {
      if (s.first) {
        args[s.call] = '';
        const c = plan.toolCalls[s.call];
        open({
          type: 'tool_use',
          id: ids[s.call] ?? toolUseId(),
          name: c?.name ?? '',
          input: {},
          call: s.call,
        });
      }
      args[s.call] = `${args[s.call] ?? ''}${s.text}`;
    }
  }
  for (const b of blocks) {
    if (b['type'] === 'thinking') b['signature'] = thinkingSignature();
    if (b['type'] === 'tool_use') {
      const call = b['call'] as number;
      delete b['call'];
      // A clipped call's arguments are not JSON: Anthropic still reports what it parsed.
      try {
        b['input'] = JSON.parse(args[call] ?? '{}') as unknown;
      } catch {
        b['input'] = {};
      }
    }
  }
  return blocks;
}

/** A non-streaming `Message`. */
export function message(
  meta: CompletionMeta,
  plan: ChoicePlan,
  ids: readonly string[],
  usage: AnthropicUsage | undefined,
) {
  return {
    id: meta.id,
    type: 'message' as const,
    role: 'assistant' as const,
    model: meta.model,
    content: contentBlocks(plan, ids),
    stop_reason: STOP_REASONS[plan.finishReason],
    stop_sequence: null,
    stop_details: null,
    ...(usage ? { usage } : {}),
  };
}

/**
 * The SSE events of one streamed answer, opened and closed as the steps come: a block starts
 * when the kind of step changes (thinking → text, or a new tool call), a thinking block ends
 * with its `signature_delta`.
 */
export class EventFactory {
  private index = -1;
  private kind: 'thinking' | 'text' | 'tool_use' | null = null;
  private pinged = false;

  constructor(
    private readonly plan: ChoicePlan,
    private readonly ids: readonly string[],
  ) {}

  start(meta: CompletionMeta, usage: AnthropicUsage | undefined): Array<[string, unknown]> {
    return [
      [
        'message_start',
        {
          type: 'message_start',
          message: {
            id: meta.id,
            type: 'message',
            role: 'assistant',
            model: meta.model,
            content: [],
            stop_reason: null,
            stop_sequence: null,
            stop_details: null,
            ...(usage ? { usage } : {}),
          },
        },
      ],
    ];
  }

  private close(): Array<[string, unknown]> {
    if (this.kind === null) return [];
    const out: Array<[string, unknown]> = [];
    if (this.kind === 'thinking')
      out.push(this.delta({ type: 'signature_delta', signature: thinkingSignature() }));
    out.push(['content_block_stop', { type: 'content_block_stop', index: this.index }]);
    this.kind = null;
    return out;
  }

  private open(kind: 'thinking' | 'text' | 'tool_use', block: Block): Array<[string, unknown]> {
    const out = this.close();
    this.index++;
    this.kind = kind;
    out.push([
      'content_block_start',
      { type: 'content_block_start', index: this.index, content_block: block },
    ]);
    if (!this.pinged) {
      this.pinged = true;
      out.push(['ping', { type: 'ping' }]);
    }
    return out;
  }

  private delta(delta: Block): [string, unknown] {
    return ['content_block_delta', { type: 'content_block_delta', index: this.index, delta }];
  }

  step(s: Step): Array<[string, unknown]> {
    const out: Array<[string, unknown]> = [];
    if (s.kind === 'reasoning') {
      if (this.kind !== 'thinking')
        out.push(...this.open('thinking', { type: 'thinking', thinking: '', signature: '' }));
      out.push(this.delta({ type: 'thinking_delta', thinking: s.text }));
    } else if (s.kind === 'content') {
      if (this.kind !== 'text') out.push(...this.open('text', { type: 'text', text: '' }));
      out.push(this.delta({ type: 'text_delta', text: s.text }));
    } else {
      if (s.first) {
        const c = this.plan.toolCalls[s.call];
        out.push(
          ...this.open('tool_use', {
            type: 'tool_use',
            id: this.ids[s.call] ?? toolUseId(),
            name: c?.name ?? '',
            input: {},
          }),
        );
      }
      out.push(this.delta({ type: 'input_json_delta', partial_json: s.text }));
    }
    return out;
  }

  /** The end of the answer: the open block's stop and the `message_delta` (with `usage`). */
  finish(usage: object | undefined): Array<[string, unknown]> {
    return [
      ...this.close(),
      [
        'message_delta',
        {
          type: 'message_delta',
          delta: {
            stop_reason: STOP_REASONS[this.plan.finishReason],
            stop_sequence: null,
            stop_details: null,
          },
          ...(usage ? { usage } : {}),
        },
      ],
    ];
  }
}

/** Fixed `created_at` of the simulated models. */
export const MODEL_CREATED_AT = '2025-02-19T00:00:00Z';

export const modelInfo = (m: SimModel) => ({
  type: 'model' as const,
  id: m.id,
  display_name: m.id,
  created_at: MODEL_CREATED_AT,
  max_input_tokens: m.contextLength ?? null,
  max_tokens: null,
  capabilities: null,
});
