/**
 * The Messages API request, from the protocol-neutral `ChatRequestModel`: the top-level `system`,
 * strictly alternating `user`/`assistant` turns of content blocks, tools, `tool_choice`,
 * structured output and extended thinking. The parameter map (`anthropic.params.ts`) calls the
 * pieces that shape more than one field.
 */
import { tryParse, isObj, type Json } from '../core/json.js';
import {
  prefillOf,
  type ChatRequestModel,
  type ContentPart,
  type ReasoningBlock,
  type ReasoningRequest,
  type ResponseFormat,
  type TextPart,
  type ToolChoice,
  type ToolSpec,
  type Turn,
} from '../core/request-model.js';

export type AnthropicBlock = Json & { type: string };

export interface AnthropicMessage {
  role: 'user' | 'assistant';
  content: AnthropicBlock[];
}

const withCache = (block: AnthropicBlock, cacheControl: Json | undefined): AnthropicBlock =>
  cacheControl ? { ...block, cache_control: cacheControl } : block;

/** `system`: a string, or text blocks when the client put `cache_control` on any part. */
export function systemOf(parts: readonly TextPart[]): string | AnthropicBlock[] | undefined {
  const texts = parts.filter((p) => p.text !== '');
  if (texts.length === 0) return undefined;
  if (!texts.some((p) => p.cacheControl)) return texts.map((p) => p.text).join('\n\n');
  return texts.map((p) =>
    withCache({ type: 'text', text: p.text }, p.cacheControl as Json | undefined),
  );
}

/** Anthropic takes remote images over HTTP(S) only. */
const REMOTE = /^https?:\/\//i;

/** One content part as a block; null when Anthropic cannot take it. */
function blockOf(p: ContentPart): AnthropicBlock | null {
  switch (p.type) {
    case 'text':
      return p.text === ''
        ? null
        : withCache({ type: 'text', text: p.text }, p.cacheControl as Json | undefined);
    case 'image': {
      const source =
        p.data !== undefined
          ? { type: 'base64', media_type: p.mediaType ?? 'image/png', data: p.data }
          : p.url && REMOTE.test(p.url)
            ? { type: 'url', url: p.url }
            : null;
      return source
        ? withCache({ type: 'image', source }, p.cacheControl as Json | undefined)
        : null;
    }
    case 'file': {
      // PDFs (and plain text) are `document` blocks.
      if (p.data !== undefined && p.mediaType === 'application/pdf')
        return {
          type: 'document',
          source: { type: 'base64', media_type: 'application/pdf', data: p.data },
          ...(p.filename ? { title: p.filename } : {}),
        };
      if (p.data !== undefined && p.mediaType === 'text/plain')
        return {
          type: 'document',
          source: {
            type: 'text',
            media_type: 'text/plain',
            data: Buffer.from(p.data, 'base64').toString('utf8'),
          },
          ...(p.filename ? { title: p.filename } : {}),
        };
      if (p.url && REMOTE.test(p.url))
        return { type: 'document', source: { type: 'url', url: p.url } };
      return null;
    }
  }
}

const blocksOf = (parts: readonly ContentPart[]): AnthropicBlock[] =>
  parts.map(blockOf).filter((b): b is AnthropicBlock => b !== null);

/**
 * Reasoning of an earlier assistant turn, given back as Anthropic requires: a `thinking` block
 * with its signature, or a `redacted_thinking` block with its encrypted data. Reasoning without
 * a signature (another provider's, or a summary) cannot be verified by Anthropic: left out.
 */
function reasoningBlocks(reasoning: readonly ReasoningBlock[]): AnthropicBlock[] {
  const out: AnthropicBlock[] = [];
  for (const r of reasoning) {
    if (r.type === 'encrypted' && r.data) out.push({ type: 'redacted_thinking', data: r.data });
    else if (r.type === 'text' && r.signature)
      out.push({ type: 'thinking', thinking: r.text ?? '', signature: r.signature });
  }
  return out;
}

/** Tool-call arguments as the `input` object Anthropic wants (`{}` when they are not one). */
export function toolInput(args: string): Json {
  const v = tryParse(args.trim() === '' ? '{}' : args);
  return isObj(v) ? v : {};
}

function toolResultBlock(t: Extract<Turn, { role: 'tool' }>): AnthropicBlock {
  const blocks = blocksOf(t.parts);
  // Plain text reads as a string; images or cache breakpoints need blocks.
  const plain = blocks.every((b) => b.type === 'text' && b['cache_control'] === undefined);
  const content = plain ? blocks.map((b) => b['text'] as string).join('') : blocks;
  return {
    type: 'tool_result',
    tool_use_id: t.toolCallId,
    ...(content === '' || content.length === 0 ? {} : { content }),
  };
}

function turnBlocks(t: Turn): { role: 'user' | 'assistant'; blocks: AnthropicBlock[] } {
  if (t.role === 'user') return { role: 'user', blocks: blocksOf(t.parts) };
  if (t.role === 'tool') return { role: 'user', blocks: [toolResultBlock(t)] };
  const blocks = [
    ...reasoningBlocks(t.reasoning),
    ...blocksOf(t.parts),
    ...t.toolCalls.map((c): AnthropicBlock => ({
      type: 'tool_use',
      id: c.id,
      name: c.name,
      input: toolInput(c.arguments),
    })),
  ];
  return { role: 'assistant', blocks };
}

/**
 * The conversation as Anthropic's alternating turns: consecutive turns of one role are merged
 * (tool results become `tool_result` blocks of the user turn that follows the assistant's
 * `tool_use`), empty turns are left out, and a trailing assistant turn (a prefill) loses its
 * trailing whitespace, which Anthropic refuses.
 */
export function messagesOf(turns: readonly Turn[]): AnthropicMessage[] {
  const out: AnthropicMessage[] = [];
  for (const t of turns) {
    const { role, blocks } = turnBlocks(t);
    if (blocks.length === 0) continue;
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  }
  const tail = out[out.length - 1];
  if (tail?.role === 'assistant') {
    const block = tail.content[tail.content.length - 1];
    if (block?.type === 'text') {
      const text = (block['text'] as string).trimEnd();
      if (text === '') tail.content.pop();
      else block['text'] = text;
      if (tail.content.length === 0) out.pop();
    }
  }
  return out;
}

export function toolsOf(tools: readonly ToolSpec[]): AnthropicBlock[] {
  return tools.map((t) => ({
    name: t.name,
    ...(t.description ? { description: t.description } : {}),
    input_schema: t.parameters,
    ...(t.strict ? { strict: true } : {}),
    ...(t.cacheControl ? { cache_control: t.cacheControl } : {}),
  })) as unknown as AnthropicBlock[];
}

/**
 * `tool_choice`: auto → auto, required → any, a named function → tool, none → none;
 * `parallel_tool_calls: false` → `disable_parallel_tool_use` (which `none` does not take).
 */
export function toolChoiceOf(
  choice: ToolChoice | undefined,
  parallel: boolean | undefined,
): Json | undefined {
  const base: Json | undefined =
    choice === undefined
      ? parallel === false
        ? { type: 'auto' }
        : undefined
      : choice === 'auto'
        ? { type: 'auto' }
        : choice === 'required'
          ? { type: 'any' }
          : choice === 'none'
            ? { type: 'none' }
            : { type: 'tool', name: choice.name };
  if (base && parallel === false && base['type'] !== 'none')
    base['disable_parallel_tool_use'] = true;
  return base;
}

/**
 * `response_format: json_schema` → `output_config.format` (`{type: 'json_schema', schema}`):
 * Anthropic's structured outputs, generally available under `anthropic-version: 2023-06-01`, so
 * the answer stays ordinary text content (no forced tool to unwrap). `json_object` has no
 * Anthropic counterpart (structured outputs need a schema that closes every object): not sent.
 */
export function outputFormatOf(format: ResponseFormat | undefined): Json | undefined {
  if (format?.type !== 'json_schema') return undefined;
  return { type: 'json_schema', schema: format.schema };
}

/** The last assistant turn called tools without any reasoning Anthropic could verify. */
function unsignedToolTurn(request: ChatRequestModel): boolean {
  const last = [...request.turns].reverse().find((t) => t.role === 'assistant');
  if (!last || last.role !== 'assistant' || last.toolCalls.length === 0) return false;
  return reasoningBlocks(last.reasoning).length === 0;
}

/** Share of `max_tokens` each OpenRouter effort gives to thinking (as OpenRouter maps it). */
const EFFORT_SHARE: Readonly<Record<string, number>> = {
  minimal: 0.1,
  low: 0.2,
  medium: 0.5,
  high: 0.8,
};
/** Anthropic's smallest thinking budget. */
export const MIN_THINKING_BUDGET = 1024;
/** The largest budget an effort (not an explicit `reasoning.max_tokens`) asks for. */
export const MAX_EFFORT_BUDGET = 32_000;

/**
 * Extended thinking for a reasoning request, and what it changes in the body:
 * - the budget is `reasoning.max_tokens`, else the effort's share of `max_tokens` (medium by
 *   default), never under 1024;
 * - `max_tokens` must exceed the budget (thinking counts against it): when it does not, the
 *   answer keeps its `max_tokens` on top of the budget;
 * - temperature must be 1 (or unset) and top_k unset; top_p is held within [0.95, 1];
 * - thinking may not be on when `tool_choice` forces a tool, nor with a prefilled answer: the
 *   client's hard constraint wins and the request goes without thinking;
 * - in a tool loop, Anthropic wants the last assistant turn (the one whose `tool_use` the results
 *   answer) to start with its signed thinking: a client that did not send the
 *   `reasoning_details` back gets the turn without thinking rather than a 400.
 * Returns whether thinking was turned on.
 */
export function applyThinking(
  target: Json,
  reasoning: ReasoningRequest,
  request: ChatRequestModel,
): boolean {
  if (!reasoning.enabled) return false;
  const choice = isObj(target['tool_choice']) ? target['tool_choice']['type'] : undefined;
  if (choice === 'any' || choice === 'tool') return false;
  if (prefillOf(request) !== undefined) return false;
  if (unsignedToolTurn(request)) return false;
  const maxTokens = typeof target['max_tokens'] === 'number' ? target['max_tokens'] : 0;
  const budget = Math.max(
    MIN_THINKING_BUDGET,
    reasoning.maxTokens ??
      Math.min(
        MAX_EFFORT_BUDGET,
        Math.floor(maxTokens * (EFFORT_SHARE[reasoning.effort ?? 'medium'] ?? 0.5)),
      ),
  );
  if (budget >= maxTokens) target['max_tokens'] = budget + maxTokens;
  target['thinking'] = { type: 'enabled', budget_tokens: budget };
  if (target['temperature'] !== 1) delete target['temperature'];
  delete target['top_k'];
  if (typeof target['top_p'] === 'number') target['top_p'] = Math.max(0.95, target['top_p']);
  return true;
}
