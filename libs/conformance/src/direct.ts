/**
 * The unit-tier runner: one case, the provider's adapter driven by `callUpstream` (exactly what
 * the connector runs) against the simulator of its wire. No Kafka, no services.
 */
import { type Agent } from 'undici';
import {
  callUpstream,
  type fromOpenAIUsage,
  UpstreamError,
  type ProviderAdapter,
} from '@turnpike/providers';
import type { ProviderConnection } from '@turnpike/contracts';
import type { ConformanceCase } from './cases.js';
import { foldChunks, fromCompletion, type Json, type Observed } from './result.js';

export async function runDirect(
  c: ConformanceCase,
  adapter: ProviderAdapter,
  connection: ProviderConnection,
  upstreamModel: string,
  dispatcher: Agent,
): Promise<Observed> {
  const chunks: Json[] = [];
  let completion: Json | null = null;
  let endUsage: ReturnType<typeof fromOpenAIUsage> | null = null;
  try {
    for await (const ev of callUpstream({
      adapter,
      connection,
      call: { body: { ...c.body, model: 'conformance/model' }, upstreamModel, stream: c.stream },
      requireParameters: false,
      signal: new AbortController().signal,
      deadlineAt: Date.now() + 30_000,
      dispatcher,
      stallTimeoutMs: 10_000,
    })) {
      if (ev.type === 'chunk') chunks.push(ev.chunk);
      else if (ev.type === 'completion') {
        completion = ev.parsed.completion;
        endUsage = ev.parsed.usageReported ? ev.parsed.tokens : null;
      } else if (ev.type === 'end') endUsage = ev.tokens;
    }
  } catch (e) {
    if (!(e instanceof UpstreamError)) throw e;
    return {
      ok: false,
      stream: c.stream,
      status: e.reply.status,
      code: e.reply.code,
      message: e.reply.message,
      retryable: e.reply.retryable,
      upstreamStatus: e.reply.upstreamStatus,
      retryAfterSec: e.reply.retryAfterSec,
      chunksBefore: chunks.length,
      raw: JSON.stringify(e.reply),
    };
  }
  const folded = completion ? fromCompletion(completion) : foldChunks(chunks);
  return {
    ok: true,
    stream: c.stream,
    ...folded,
    // The connector bills from the decoder's normalised usage, not the chunk's object.
    usage: endUsage,
  };
}
