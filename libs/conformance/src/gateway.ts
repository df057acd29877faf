/**
 * The e2e-tier runner: one case through the whole platform (gateway, Kafka, connector, the
 * provider's simulator) with the official `openai` client, unchanged but for the base URL.
 */
import OpenAI from 'openai';
import type { ConformanceCase } from './cases.js';
import { foldChunks, fromCompletion, usageOf, type Json, type Observed } from './result.js';

export async function runThroughGateway(
  c: ConformanceCase,
  client: OpenAI,
  model: string,
): Promise<Observed> {
  const body = { ...c.body, model } as Json;
  const chunks: Json[] = [];
  try {
    if (!c.stream) {
      const completion = (await client.chat.completions.create(
        body as unknown as OpenAI.ChatCompletionCreateParamsNonStreaming,
      )) as unknown as Json;
      const folded = fromCompletion(completion);
      return { ok: true, stream: false, ...folded, usage: usageOf(folded.usage) };
    }
    const stream = await client.chat.completions.create({
      ...(body as unknown as OpenAI.ChatCompletionCreateParamsStreaming),
      stream: true,
      stream_options: { include_usage: true },
    });
    for await (const chunk of stream) chunks.push(chunk as unknown as Json);
    const folded = foldChunks(chunks);
    return { ok: true, stream: true, ...folded, usage: usageOf(folded.usage) };
  } catch (e) {
    if (!(e instanceof OpenAI.APIError)) throw e;
    // After the first token the HTTP status was 200: the error chunk states the status as its
    // numeric `code` (OpenRouter's shape), our string code in `metadata.error_type`.
    const inStream = e.status === undefined;
    const err = (e.error ?? {}) as Json;
    const meta = (err['metadata'] ?? {}) as Json;
    return {
      ok: false,
      stream: c.stream,
      status: inStream && typeof err['code'] === 'number' ? err['code'] : (e.status ?? 0),
      code:
        typeof e.code === 'string'
          ? e.code
          : typeof meta['error_type'] === 'string'
            ? meta['error_type']
            : null,
      message: e.message,
      chunksBefore: chunks.filter((ch) => Array.isArray(ch['choices']) && ch['choices'].length > 0)
        .length,
      raw: JSON.stringify({ message: e.message, error: e.error ?? null }),
    };
  }
}
