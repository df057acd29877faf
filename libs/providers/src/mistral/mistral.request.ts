/**
 * The Mistral chat request's messages, from the neutral model. Mistral's wire is OpenAI-like;
 * what differs:
 * - tool call ids must be 9 characters of `[a-zA-Z0-9]` ("Tool call id was call_abc but must be
 *   a-z, A-Z, 0-9, with a length of 9"): ids of other providers are mapped to 9-character ids,
 *   the same way for the assistant's call and the tool's result;
 * - a prefill is the last assistant message with `prefix: true`;
 * - an earlier turn's thinking goes back as a `thinking` content chunk (its own format only).
 * Sources: https://docs.mistral.ai/api/#tag/chat/operation/chat_completion_v1_chat_completions_post,
 * https://docs.mistral.ai/capabilities/function_calling/, https://docs.mistral.ai/guides/prefix/,
 * https://docs.mistral.ai/capabilities/reasoning/.
 */
import { createHash } from 'node:crypto';
import type { Json } from '../core/json.js';
import {
  prefillOf,
  textOf,
  type ChatRequestModel,
  type ContentPart,
  type ReasoningBlock,
} from '../core/request-model.js';

/** The `format` of Mistral's reasoning details (what we send back as thinking chunks). */
export const MISTRAL_REASONING_FORMAT = 'mistral-thinking-v1';

const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';

/** A tool call id Mistral accepts: the id itself when it is one, else 9 characters of its hash. */
export function mistralToolCallId(id: string): string {
  if (/^[A-Za-z0-9]{9}$/.test(id)) return id;
  const digest = createHash('sha256').update(id).digest();
  let out = '';
  for (let i = 0; i < 9; i++) out += ALNUM[digest[i]! % ALNUM.length];
  return out;
}

function userContent(parts: readonly ContentPart[]): string | Json[] {
  if (parts.every((p) => p.type === 'text')) return textOf(parts);
  const chunks: Json[] = [];
  for (const p of parts) {
    if (p.type === 'text') chunks.push({ type: 'text', text: p.text });
    else if (p.type === 'image') {
      const url =
        p.data !== undefined ? `data:${p.mediaType ?? 'image/png'};base64,${p.data}` : p.url;
      if (url) chunks.push({ type: 'image_url', image_url: url });
    } else if (p.url) chunks.push({ type: 'document_url', document_url: p.url });
  }
  return chunks;
}

function thinkingChunks(blocks: readonly ReasoningBlock[]): Json[] {
  return blocks
    .filter((b) => b.type === 'text' && b.text && b.format === MISTRAL_REASONING_FORMAT)
    .map((b) => ({ type: 'thinking', thinking: [{ type: 'text', text: b.text }] }));
}

/** Mistral's `messages` for the request. */
export function mistralMessages(model: ChatRequestModel): Json[] {
  const out: Json[] = [];
  if (model.system.length > 0)
    out.push({ role: 'system', content: model.system.map((p) => p.text).join('\n\n') });
  const prefill = prefillOf(model);
  model.turns.forEach((t, i) => {
    if (t.role === 'user') {
      out.push({ role: 'user', content: userContent(t.parts) });
    } else if (t.role === 'tool') {
      out.push({
        role: 'tool',
        tool_call_id: mistralToolCallId(t.toolCallId),
        ...(t.name ? { name: t.name } : {}),
        content: textOf(t.parts),
      });
    } else {
      const text = textOf(t.parts) || t.refusal || '';
      const thinking = thinkingChunks(t.reasoning);
      const m: Json = {
        role: 'assistant',
        content:
          thinking.length > 0
            ? [...thinking, ...(text ? [{ type: 'text', text }] : [])]
            : text || null,
      };
      if (t.toolCalls.length > 0)
        m['tool_calls'] = t.toolCalls.map((c) => ({
          id: mistralToolCallId(c.id),
          type: 'function',
          function: { name: c.name, arguments: c.arguments },
        }));
      if (prefill !== undefined && i === model.turns.length - 1) m['prefix'] = true;
      out.push(m);
    }
  });
  return out;
}
