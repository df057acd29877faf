/**
 * Token estimates for when the upstream reports no usage (a stream cancelled by the client
 * before its usage chunk). About four characters per token, the usual rule for English text
 * with GPT-style tokenizers; always at least one token per non-empty text.
 */
export function estimateTokens(chars: number): number {
  return chars <= 0 ? 0 : Math.ceil(chars / 4);
}

/** Characters of generated output a chunk carries (content, refusal, tool-call arguments). */
export function outputChars(chunk: Record<string, unknown>): number {
  let n = 0;
  const choices = Array.isArray(chunk['choices']) ? chunk['choices'] : [];
  for (const c of choices) {
    const delta = (c as { delta?: Record<string, unknown> }).delta;
    if (!delta) continue;
    if (typeof delta['content'] === 'string') n += delta['content'].length;
    if (typeof delta['refusal'] === 'string') n += delta['refusal'].length;
    if (Array.isArray(delta['tool_calls'])) {
      for (const t of delta['tool_calls'] as Array<{
        function?: { name?: string; arguments?: string };
      }>) {
        n += (t.function?.arguments?.length ?? 0) + (t.function?.name?.length ?? 0);
      }
    }
  }
  return n;
}

/** Characters of the prompt: the text of every message. */
export function promptChars(body: Record<string, unknown>): number {
  const messages = Array.isArray(body['messages']) ? body['messages'] : [];
  return JSON.stringify(messages).length;
}
