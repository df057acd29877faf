/**
 * What `POST /v1/chat/completions` sends, against @openrouter/sdk 1.3.19's own schemas
 * (`chat.send` validates the JSON body as `ChatResult` and each SSE event as `ChatStreamChunk`).
 * Before these presenters the SDK rejected the unary body (`cost_details` lacked
 * `upstream_inference_prompt_cost` and `upstream_inference_completions_cost`) and every
 * content chunk of a stream with `include_usage` (`usage: null`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { ChatResult$inboundSchema, ChatStreamChunk$inboundSchema } from '@openrouter/sdk/models';
import type { EndpointPricing, NativeTokens } from '@turnpike/contracts';
import { upstreamCostMicros } from '@turnpike/pricing';
import {
  excludesReasoning,
  presentChunk,
  presentCompletion,
  presentUsage,
  splitUpstreamCost,
  streamErrorChunk,
} from './completion.presenter.js';

const price: EndpointPricing = {
  promptPerM: 150_000,
  completionPerM: 600_000,
  cachedReadPerM: 75_000,
  cacheWritePerM: 0,
  reasoningPerM: 600_000,
  perRequest: 0,
};
const tokens: NativeTokens = {
  prompt: 120,
  completion: 33,
  cachedRead: 20,
  cacheWrite: 0,
  reasoning: 0,
};
const upstreamMicros = upstreamCostMicros(tokens, price);
const cost = { currency: 'USD' as const, upstreamMicros, chargedMicros: upstreamMicros + 5 };
const ours = {
  id: 'gen-1-x',
  model: 'turnpike/sim-small',
  provider: 'sim',
  created: 1_800_000_000,
};

const upstreamCompletion = {
  id: 'chatcmpl-up',
  object: 'chat.completion',
  created: 1_800_000_000,
  model: 'sim-gpt-small',
  choices: [
    { index: 0, message: { role: 'assistant', content: 'Hello there' }, finish_reason: 'stop' },
  ],
  usage: { prompt_tokens: 120, completion_tokens: 33, total_tokens: 153 },
};

describe('chat completion presenters: @openrouter/sdk and openai accept them', () => {
  test('the upstream cost splits into prompt and completion parts that sum exactly', () => {
    const s = splitUpstreamCost(tokens, price, upstreamMicros);
    assert.equal(s.promptMicros + s.completionMicros, upstreamMicros);
    assert.equal(s.completionMicros, Math.ceil((33 * 600_000) / 1_000_000));
    const none = splitUpstreamCost(tokens, price, 0);
    assert.deepEqual(none, { promptMicros: 0, completionMicros: 0 });
  });

  test('a unary completion parses as the SDK’s ChatResult, with our id, tokens and cost', () => {
    const { system_fingerprint: _sf, ...withoutFingerprint } = upstreamCompletion as Record<
      string,
      unknown
    >;
    const body = presentCompletion(
      withoutFingerprint,
      { id: ours.id, model: ours.model, provider: ours.provider },
      presentUsage(tokens, upstreamCompletion.usage, cost, price),
    );
    // The key the SDK requires, a string as OpenAI's schema wants: the backend's stable hash.
    assert.match(String(body['system_fingerprint']), /^fp_[0-9a-f]{10}$/);
    const again = presentCompletion(
      withoutFingerprint,
      { id: 'gen-2', model: ours.model, provider: ours.provider },
      presentUsage(tokens, upstreamCompletion.usage, cost, price),
    );
    assert.equal(again['system_fingerprint'], body['system_fingerprint'], 'stable per backend');
    const r = ChatResult$inboundSchema.parse(body);
    assert.equal(r.id, 'gen-1-x');
    assert.equal(r.model, 'turnpike/sim-small');
    assert.equal(r.choices[0]!.message.content, 'Hello there');
    assert.equal(r.usage!.promptTokens, 120);
    assert.equal(r.usage!.completionTokens, 33);
    assert.equal(r.usage!.promptTokensDetails!.cachedTokens, 20);
    assert.equal(r.usage!.cost, cost.chargedMicros / 1e6);
    const d = r.usage!.costDetails!;
    assert.equal(d.upstreamInferenceCost, upstreamMicros / 1e6);
    assert.ok(
      Math.abs(
        d.upstreamInferencePromptCost + d.upstreamInferenceCompletionsCost - upstreamMicros / 1e6,
      ) < 1e-12,
    );
  });

  test('null token details from an upstream do not break the SDK', () => {
    const usage = presentUsage(
      tokens,
      {
        ...upstreamCompletion.usage,
        prompt_tokens_details: { cached_tokens: 20, audio_tokens: null },
      },
      cost,
      price,
    );
    ChatResult$inboundSchema.parse(presentCompletion(upstreamCompletion, ours, usage));
  });

  test('content chunks carry no usage (not even null) and parse as ChatStreamChunk', () => {
    const upstream = {
      id: 'chatcmpl-up',
      object: 'chat.completion.chunk',
      created: 1_800_000_001,
      model: 'sim-gpt-small',
      system_fingerprint: null,
      usage: null,
      choices: [{ index: 0, delta: { role: 'assistant', content: 'Hel' }, finish_reason: null }],
    };
    const chunk = presentChunk(upstream, ours)!;
    assert.equal('usage' in chunk, false);
    assert.equal('system_fingerprint' in chunk, false);
    assert.equal(chunk['id'], 'gen-1-x');
    assert.equal(chunk['created'], 1_800_000_001);
    const r = ChatStreamChunk$inboundSchema.parse(chunk);
    assert.equal(r.choices[0]!.delta.content, 'Hel');
    // A real fingerprint is kept.
    assert.equal(
      presentChunk({ ...upstream, system_fingerprint: 'fp_1' }, ours)!['system_fingerprint'],
      'fp_1',
    );
  });

  test('the usage-only chunk is held back; the final usage chunk parses with the cost', () => {
    assert.equal(presentChunk({ id: 'x', choices: [], usage: { prompt_tokens: 1 } }, ours), null);
    const final = {
      ...ours,
      object: 'chat.completion.chunk',
      choices: [],
      usage: presentUsage(tokens, null, cost, price),
    };
    const r = ChatStreamChunk$inboundSchema.parse(final);
    assert.equal(r.usage!.totalTokens, 153);
    assert.equal(r.usage!.cost, cost.chargedMicros / 1e6);
  });

  test('the mid-stream error chunk parses, with a numeric code and our code beside it', () => {
    const chunk = streamErrorChunk(
      { ...ours, object: 'chat.completion.chunk' },
      {
        status: 502,
        message: 'The upstream stream was cut.',
        code: 'upstream_error',
        type: 'server_error',
      },
    );
    const r = ChatStreamChunk$inboundSchema.parse(chunk);
    assert.equal(r.error!.code, 502);
    assert.equal(r.error!.message, 'The upstream stream was cut.');
    assert.equal(r.error!.metadata!.errorType, 'upstream_error');
    assert.equal(r.choices[0]!.finishReason, 'error');
  });

  test('reasoning.exclude: reasoning leaves chunks and messages; a reasoning-only chunk is dropped', () => {
    const opts = { excludeReasoning: true };
    const thinking = {
      id: 'x',
      choices: [
        {
          index: 0,
          delta: {
            reasoning: 'hmm',
            reasoning_details: [{ type: 'reasoning.text', text: 'hmm', format: 'x', index: 0 }],
          },
          finish_reason: null,
        },
      ],
    };
    assert.equal(presentChunk(thinking, ours, opts), null);
    assert.notEqual(presentChunk(thinking, ours), null, 'kept when not excluded');
    const mixed = presentChunk(
      {
        id: 'x',
        choices: [{ index: 0, delta: { content: 'Hi', reasoning: 'r' }, finish_reason: null }],
      },
      ours,
      opts,
    )!;
    assert.deepEqual((mixed['choices'] as Array<Record<string, unknown>>)[0]!['delta'], {
      content: 'Hi',
    });
    const c = presentCompletion(
      {
        id: 'c',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Hi', reasoning: 'r', reasoning_details: [] },
            finish_reason: 'stop',
          },
        ],
      },
      ours,
      presentUsage(tokens, null, cost, price),
      opts,
    );
    const message = ((c['choices'] as Array<Record<string, unknown>>)[0]!['message'] ??
      {}) as Record<string, unknown>;
    assert.deepEqual(Object.keys(message).sort(), ['content', 'role']);
    assert.equal(excludesReasoning({ reasoning: { exclude: true } }), true);
    assert.equal(excludesReasoning({ include_reasoning: false }), true);
    assert.equal(excludesReasoning({ reasoning: { effort: 'high' } }), false);
  });
});
