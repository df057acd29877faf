import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  fromAnthropicUsage,
  fromBedrockUsage,
  fromCohereUsage,
  fromGeminiUsage,
  fromOpenAIUsage,
  openAIUsageOf,
} from './usage.js';

// One conversation, reported by each provider in its own convention: 1000 input tokens of which
// 600 were read from the cache and 100 written to it; 250 output tokens of which 50 thinking.
const SAME = { prompt: 1000, completion: 250, cachedRead: 600, cacheWrite: 100, reasoning: 50 };

test('OpenAI: prompt_tokens already includes cached tokens', () => {
  assert.deepEqual(
    fromOpenAIUsage({
      prompt_tokens: 1000,
      completion_tokens: 250,
      prompt_tokens_details: { cached_tokens: 600, cache_write_tokens: 100 },
      completion_tokens_details: { reasoning_tokens: 50 },
    }),
    SAME,
  );
});

test('Anthropic: input_tokens excludes cache reads and writes', () => {
  assert.deepEqual(
    fromAnthropicUsage(
      {
        input_tokens: 300,
        cache_read_input_tokens: 600,
        cache_creation_input_tokens: 100,
        output_tokens: 250,
      },
      50,
    ),
    SAME,
  );
});

test('Gemini: candidates exclude thoughts; prompt includes cached content', () => {
  assert.deepEqual(
    fromGeminiUsage({
      promptTokenCount: 1000,
      cachedContentTokenCount: 600,
      candidatesTokenCount: 200,
      thoughtsTokenCount: 50,
      totalTokenCount: 1250,
    }),
    { ...SAME, cacheWrite: 0 },
  );
});

test('Bedrock: inputTokens excludes cache reads and writes', () => {
  assert.deepEqual(
    fromBedrockUsage(
      {
        inputTokens: 300,
        cacheReadInputTokens: 600,
        cacheWriteInputTokens: 100,
        outputTokens: 250,
      },
      50,
    ),
    SAME,
  );
});

test('Cohere: tokens, else billed units', () => {
  assert.deepEqual(fromCohereUsage({ tokens: { input_tokens: 12, output_tokens: 5 } }), {
    prompt: 12,
    completion: 5,
    cachedRead: 0,
    cacheWrite: 0,
    reasoning: 0,
  });
  assert.equal(fromCohereUsage({ billed_units: { input_tokens: 9, output_tokens: 3 } }).prompt, 9);
});

test('garbage counts are zero, reasoning never exceeds completion', () => {
  assert.deepEqual(fromOpenAIUsage({ prompt_tokens: -5, completion_tokens: 'x' }), {
    prompt: 0,
    completion: 0,
    cachedRead: 0,
    cacheWrite: 0,
    reasoning: 0,
  });
  assert.equal(fromAnthropicUsage({ output_tokens: 10 }, 99).reasoning, 10);
});

test('openAIUsageOf round-trips through fromOpenAIUsage', () => {
  assert.deepEqual(fromOpenAIUsage(openAIUsageOf(SAME)), SAME);
});
