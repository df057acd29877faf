/**
 * Usage and cost through the gateway for the native protocols, with the official `openai`
 * client: every provider reports its tokens in its own convention (Anthropic's and Bedrock's
 * input count excludes cache reads and writes; Gemini's includes cached content), the connector
 * normalises them, and the cost prices each kind of token at its own price: a cache read at the
 * cache-read price, a cache write at the cache-write price, never both or twice.
 *
 * The native test models (support/native-models.ts) cost, per million tokens: prompt 1,
 * completion 4, cache read 0.1, cache write 1.25 (USD). So one token of each costs 1, 4, 0.1 and
 * 1.25 micro-dollars: the expected upstream cost is computed here from the token counts alone.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type OpenAI from 'openai';
import { client } from '../support/context.js';
import { nativeModelId } from '../support/native-models.js';

type Json = Record<string, unknown>;

/** Which cache figures each wire reports (Gemini has no cache-write usage). */
const WIRES: ReadonlyArray<{ protocol: string; cacheWrite: boolean }> = [
  { protocol: 'anthropic', cacheWrite: true },
  { protocol: 'bedrock', cacheWrite: true },
  { protocol: 'gemini', cacheWrite: false },
  { protocol: 'azure', cacheWrite: false },
];

const CACHED = 8;
const WRITTEN = 5;
const OUTPUT = 6;

/** Micro-dollars of the test price list for normalised token counts, rounded up once. */
function expectedUpstreamMicros(u: {
  prompt: number;
  completion: number;
  cached: number;
  written: number;
}): number {
  const uncached = u.prompt - u.cached - u.written;
  // In tenths of a micro-dollar, so the sum is exact: 10, 40, 1 and 12.5 (x2 = 25 per two).
  const tenths = uncached * 10 + u.completion * 40 + u.cached * 1;
  return Math.ceil((tenths * 2 + u.written * 25) / 20);
}

function body(protocol: string, cacheWrite: boolean): Json {
  const knobs = `tokens=${OUTPUT} cached_tokens=${CACHED}${cacheWrite ? ` cache_write_tokens=${WRITTEN}` : ''}`;
  return {
    model: nativeModelId(protocol),
    messages: [
      {
        role: 'system',
        content: [
          {
            type: 'text',
            text: 'A long, stable policy the provider may cache.',
            cache_control: { type: 'ephemeral' },
          },
        ],
      },
      { role: 'user', content: `alpha bravo charlie [[sim ${knobs}]]` },
    ],
  };
}

function check(usage: Json, cacheWrite: boolean): void {
  const prompt = usage['prompt_tokens'] as number;
  const completion = usage['completion_tokens'] as number;
  const details = usage['prompt_tokens_details'] as Json;
  const written = cacheWrite ? WRITTEN : 0;
  assert.equal(completion, OUTPUT);
  assert.equal(details['cached_tokens'], CACHED, 'cache reads normalised');
  // Prompt tokens count every input token, the cached and written ones included.
  assert.ok(prompt > CACHED + written, `prompt ${prompt} includes the cache`);
  const upstream = Math.round(
    ((usage['cost_details'] as Json)['upstream_inference_cost'] as number) * 1e6,
  );
  assert.equal(
    upstream,
    expectedUpstreamMicros({ prompt, completion, cached: CACHED, written }),
    `upstream cost of ${JSON.stringify(usage)}`,
  );
  // What the tenant pays is never below what it cost us.
  assert.ok(Math.round((usage['cost'] as number) * 1e6) >= upstream);
}

for (const { protocol, cacheWrite } of WIRES) {
  describe(`usage and cost through the gateway: ${protocol}`, () => {
    test('unary: cache reads and writes priced as such', async () => {
      const c = await client().chat.completions.create(body(protocol, cacheWrite) as never);
      check(c.usage as unknown as Json, cacheWrite);
    });

    test('streamed: the final usage chunk carries the same figures', async () => {
      const stream = await client().chat.completions.create({
        ...(body(protocol, cacheWrite) as unknown as OpenAI.ChatCompletionCreateParamsStreaming),
        stream: true,
        stream_options: { include_usage: true },
      });
      let usage: Json | null = null;
      for await (const chunk of stream) if (chunk.usage) usage = chunk.usage as unknown as Json;
      assert.ok(usage, 'a usage chunk');
      check(usage, cacheWrite);
    });
  });
}
