/**
 * Cohere v2 chat messages from the neutral model. Sources: chat API v2,
 * https://docs.cohere.com/reference/chat, and the official SDK's types (cohere-ai
 * `src/api/types/ChatMessageV2.ts`, `AssistantMessage.ts`, `ToolMessageV2.ts`, `Content.ts`):
 * - `system`, `user` (a string, or `text` and `image_url` parts), `assistant` (`content` of
 *   `text` and `thinking` items, `tool_calls`, `tool_plan`) and `tool` (`tool_call_id`,
 *   `content`) roles;
 * - an assistant turn that calls tools carries its text as `tool_plan` (what Cohere answers
 *   with before calling: we return that plan as the message's text, so it goes back there);
 * - an earlier turn's thinking goes back as `thinking` content (its own format only).
 */
import type { Json } from '../core/json.js';
import { textOf, type ChatRequestModel, type ContentPart } from '../core/request-model.js';

export const COHERE_REASONING_FORMAT = 'cohere-thinking-v1';

function userContent(parts: readonly ContentPart[]): string | Json[] {
  if (parts.every((p) => p.type === 'text')) return textOf(parts);
  const out: Json[] = [];
  for (const p of parts) {
    if (p.type === 'text') out.push({ type: 'text', text: p.text });
    else if (p.type === 'image') {
      const url =
        p.data !== undefined ? `data:${p.mediaType ?? 'image/png'};base64,${p.data}` : p.url;
      if (url)
        out.push({
          type: 'image_url',
          image_url: { url, ...(p.detail ? { detail: p.detail } : {}) },
        });
    }
  }
  return out;
}

export function cohereMessages(model: ChatRequestModel): Json[] {
  const out: Json[] = [];
  if (model.system.length > 0)
    out.push({ role: 'system', content: model.system.map((p) => p.text).join('\n\n') });
  for (const t of model.turns) {
    if (t.role === 'user') out.push({ role: 'user', content: userContent(t.parts) });
    else if (t.role === 'tool')
      out.push({ role: 'tool', tool_call_id: t.toolCallId, content: textOf(t.parts) });
    else {
      const text = textOf(t.parts) || t.refusal || '';
      const thinking = t.reasoning
        .filter((b) => b.type === 'text' && b.text && b.format === COHERE_REASONING_FORMAT)
        .map((b) => ({ type: 'thinking', thinking: b.text }));
      const m: Json = { role: 'assistant' };
      if (t.toolCalls.length > 0) {
        if (text) m['tool_plan'] = text;
        m['tool_calls'] = t.toolCalls.map((c) => ({
          id: c.id,
          type: 'function',
          function: { name: c.name, arguments: c.arguments },
        }));
        if (thinking.length > 0) m['content'] = thinking;
      } else {
        m['content'] = thinking.length > 0 ? [...thinking, { type: 'text', text }] : text;
      }
      out.push(m);
    }
  }
  return out;
}
