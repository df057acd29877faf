import assert from 'node:assert/strict';
import { test } from 'node:test';
import { canonicalId, idOf, quantizationOf } from './model-ids.js';

const id = (source: string, upstream: string) => {
  const c = canonicalId(source, upstream);
  return c ? idOf(c) : null;
};

test("one model's ids at several providers map to one OpenRouter-style id", () => {
  const cases: [string, string, string][] = [
    // Claude on Anthropic, Bedrock and Vertex.
    ['anthropic', 'claude-3-5-sonnet-20241022', 'anthropic/claude-3.5-sonnet'],
    ['amazon-bedrock', 'anthropic.claude-3-5-sonnet-20241022-v2:0', 'anthropic/claude-3.5-sonnet'],
    ['google-vertex-anthropic', 'claude-3-5-sonnet@20241022', 'anthropic/claude-3.5-sonnet'],
    ['anthropic', 'claude-opus-4-1-20250805', 'anthropic/claude-opus-4.1'],
    ['amazon-bedrock', 'anthropic.claude-sonnet-4-20250514-v1:0', 'anthropic/claude-sonnet-4'],
    ['openrouter', 'anthropic/claude-sonnet-4', 'anthropic/claude-sonnet-4'],
    // ... except the June 2024 Sonnet, which OpenRouter keeps dated.
    ['anthropic', 'claude-3-5-sonnet-20240620', 'anthropic/claude-3.5-sonnet-20240620'],
    [
      'amazon-bedrock',
      'anthropic.claude-3-5-sonnet-20240620-v1:0',
      'anthropic/claude-3.5-sonnet-20240620',
    ],
    ['amazon-bedrock', 'anthropic.claude-v2:1', 'anthropic/claude-2.1'],
    // Llama 3.3 70B on Bedrock, Groq, Together, Cloudflare, Synthetic.
    ['amazon-bedrock', 'meta.llama3-3-70b-instruct-v1:0', 'meta-llama/llama-3.3-70b-instruct'],
    ['groq', 'llama-3.3-70b-versatile', 'meta-llama/llama-3.3-70b-instruct'],
    ['together', 'meta-llama/Llama-3.3-70B-Instruct-Turbo', 'meta-llama/llama-3.3-70b-instruct'],
    ['cloudflare', 'llama-3.3-70b-instruct-fp8-fast', 'meta-llama/llama-3.3-70b-instruct'],
    ['synthetic', 'hf:meta-llama/Llama-3.3-70B-Instruct', 'meta-llama/llama-3.3-70b-instruct'],
    ['groq', 'llama3-70b-8192', 'meta-llama/llama-3-70b-instruct'],
    ['groq', 'llama-3.1-8b-instant', 'meta-llama/llama-3.1-8b-instruct'],
    [
      'amazon-bedrock',
      'meta.llama3-2-11b-instruct-v1:0',
      'meta-llama/llama-3.2-11b-vision-instruct',
    ],
    ['groq', 'meta-llama/llama-4-maverick-17b-128e-instruct', 'meta-llama/llama-4-maverick'],
    ['amazon-bedrock', 'meta.llama4-maverick-17b-instruct-v1:0', 'meta-llama/llama-4-maverick'],
    ['cloudflare', 'llama-2-7b-chat-fp16', 'meta-llama/llama-2-7b-chat'],
    // GPT on OpenAI and Azure; gpt-oss everywhere.
    ['openai', 'gpt-4o', 'openai/gpt-4o'],
    ['azure', 'gpt-4o', 'openai/gpt-4o'],
    ['openai', 'gpt-5-chat-latest', 'openai/gpt-5-chat'],
    ['openai', 'codex-mini-latest', 'openai/codex-mini'],
    ['fireworks', 'accounts/fireworks/models/gpt-oss-120b', 'openai/gpt-oss-120b'],
    ['cerebras', 'gpt-oss-120b', 'openai/gpt-oss-120b'],
    ['groq', 'openai/gpt-oss-120b', 'openai/gpt-oss-120b'],
    // Gemini on AI Studio and Vertex, named as OpenRouter does.
    ['google-ai-studio', 'gemini-2.5-pro', 'google/gemini-2.5-pro'],
    ['google-vertex', 'gemini-2.0-flash', 'google/gemini-2.0-flash-001'],
    ['groq', 'gemma2-9b-it', 'google/gemma-2-9b-it'],
    // Open models under their makers' names, with Fireworks' `p` versions.
    ['fireworks', 'accounts/fireworks/models/glm-4p5-air', 'z-ai/glm-4.5-air'],
    ['deepinfra', 'zai-org/GLM-4.5', 'z-ai/glm-4.5'],
    ['fireworks', 'accounts/fireworks/models/deepseek-v3p1', 'deepseek/deepseek-chat-v3.1'],
    ['together', 'deepseek-ai/DeepSeek-V3', 'deepseek/deepseek-chat'],
    ['amazon-bedrock', 'deepseek.r1-v1:0', 'deepseek/deepseek-r1'],
    ['cerebras', 'qwen-3-coder-480b', 'qwen/qwen3-coder'],
    ['together', 'Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8', 'qwen/qwen3-coder'],
    ['groq', 'qwen-qwq-32b', 'qwen/qwq-32b'],
    ['groq', 'moonshotai/kimi-k2-instruct', 'moonshotai/kimi-k2'],
    ['groq', 'moonshotai/kimi-k2-instruct-0905', 'moonshotai/kimi-k2-0905'],
    ['chutes', 'chutesai/Devstral-Small-2505', 'mistralai/devstral-small-2505'],
    ['mistral', 'mistral-large-latest', 'mistralai/mistral-large'],
    ['mistral', 'open-mixtral-8x7b', 'mistralai/mixtral-8x7b-instruct'],
    ['amazon-bedrock', 'cohere.command-r-plus-v1:0', 'cohere/command-r-plus'],
    ['amazon-bedrock', 'amazon.nova-pro-v1:0', 'amazon/nova-pro-v1'],
    ['amazon-bedrock', 'ai21.jamba-1-5-mini-v1:0', 'ai21/jamba-1.5-mini'],
    ['xai', 'grok-3-latest', 'x-ai/grok-3'],
    ['xai', 'grok-2-vision-1212', 'x-ai/grok-2-vision-1212'],
    ['perplexity', 'sonar-pro', 'perplexity/sonar-pro'],
    // genai-prices' spellings of the same models.
    ['amazon-bedrock', 'us.anthropic.claude-opus-4-6-v1:0', 'anthropic/claude-opus-4.6'],
    ['amazon-bedrock', 'global.anthropic.claude-fable-5-1-v1:0', 'anthropic/claude-fable-5.1'],
    ['anthropic', 'claude-fable-5-1', 'anthropic/claude-fable-5.1'],
    ['anthropic', 'claude-opus-4-0', 'anthropic/claude-opus-4'],
    ['google-vertex-anthropic', 'claude-4-sonnet', 'anthropic/claude-sonnet-4'],
    ['amazon-bedrock', 'openai.gpt-oss-120b-1:0', 'openai/gpt-oss-120b'],
    ['amazon-bedrock', 'nvidia.nemotron-nano-9b-v2:0', 'nvidia/nemotron-nano-9b-v2'],
    ['huggingface', 'Qwen/Qwen3-32B:nebius', 'qwen/qwen3-32b'],
    ['huggingface', 'meta-llama/Meta-Llama-3-8B-Instruct:novita', 'meta-llama/llama-3-8b-instruct'],
    ['huggingface', 'MiniMaxAI/MiniMax-M2:novita', 'minimax/minimax-m2'],
    ['cloudflare', '@cf/meta/llama-3.1-8b-instruct-fp8', 'meta-llama/llama-3.1-8b-instruct'],
    ['cloudflare', '@cf/qwen/qwen3.8-27b', 'qwen/qwen3.8-27b'],
    ['ovhcloud', 'Meta-Llama-3_3-70B-Instruct', 'meta-llama/llama-3.3-70b-instruct'],
    [
      'fireworks',
      'accounts/fireworks/models/llama-v3p1-8b-instruct',
      'meta-llama/llama-3.1-8b-instruct',
    ],
    ['fireworks', 'accounts/fireworks/routers/kimi-k3-fast', 'moonshotai/kimi-k3-fast'],
    [
      'fireworks',
      'accounts/fireworks/models/qwen2p5-vl-72b-instruct',
      'qwen/qwen2.5-vl-72b-instruct',
    ],
    ['google-vertex', 'gemma-4-26b-a4b-it-maas', 'google/gemma-4-26b-a4b-it'],
    ['google-ai-studio', 'gemini-pro-1.5', 'google/gemini-1.5-pro'],
    ['xai', 'grok-4-1-fast-reasoning', 'x-ai/grok-4.1-fast'],
    ['xai', 'grok-4-0709', 'x-ai/grok-4'],
    ['cohere', 'c4ai-aya-expanse-32b', 'cohere/aya-expanse-32b'],
    ['mistral', 'voxtral-small-24b-2507', 'mistralai/voxtral-small-24b-2507'],
    // OpenRouter's own ids are the canonical form, taken as they are.
    ['openrouter', 'qwen/qwen-turbo', 'qwen/qwen-turbo'],
    ['openrouter', 'meta-llama/llama-3.1-8b-instruct', 'meta-llama/llama-3.1-8b-instruct'],
  ];
  for (const [source, upstream, want] of cases)
    assert.equal(id(source, upstream), want, `${source} ${upstream}`);
});

test('an id with no org and no known family names no model', () => {
  assert.equal(id('cloudflare', 'm2m100-1.2b'), null);
  // OpenRouter's old ids without an author are aliases of author/slug ones.
  assert.equal(id('openrouter', 'claude-3.5-sonnet'), null);
});

test('quantization suffixes are read from ids', () => {
  assert.equal(quantizationOf('Qwen/Qwen3-Coder-480B-A35B-Instruct-FP8'), 'fp8');
  assert.equal(quantizationOf('llama-3.3-70b-instruct-fp8-fast'), 'fp8');
  assert.equal(quantizationOf('llama-3.1-8b-instruct-awq'), 'awq');
  assert.equal(quantizationOf('gpt-4o'), null);
});
