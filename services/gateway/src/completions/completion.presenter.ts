import { createHash } from 'node:crypto';
import type { EndpointPricing, NativeTokens, UsageEventV1 } from '@turnpike/contracts';

/**
 * The chat completion as clients see it, in the shape both the official `openai` clients and
 * `@openrouter/sdk` (which validates every field strictly) accept: pure functions, so the shapes
 * are unit-tested against the SDK's own schemas.
 */

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const MILLION = 1_000_000n;

/**
 * The upstream cost split into its prompt and completion parts (OpenRouter's
 * `cost_details.upstream_inference_{prompt,completions}_cost`), in micro-units. The completion
 * part (reasoning included) is priced on its own and rounded up; the prompt part is the rest
 * (cached and cache-write tokens, the per-request fee and the rounding), so the two always sum
 * to the total exactly.
 */
export function splitUpstreamCost(
  tokens: NativeTokens,
  price: EndpointPricing,
  upstreamMicros: number,
): { promptMicros: number; completionMicros: number } {
  const reasoning = BigInt(Math.min(tokens.reasoning, tokens.completion));
  const completion = BigInt(tokens.completion) - reasoning;
  const numerator =
    completion * BigInt(price.completionPerM) + reasoning * BigInt(price.reasoningPerM);
  const completionMicros = Math.min(upstreamMicros, Number((numerator + MILLION - 1n) / MILLION));
  return { promptMicros: Math.max(0, upstreamMicros - completionMicros), completionMicros };
}

const currency = (micros: number): number => micros / 1_000_000;

/** Integer-valued entries only (the SDK rejects `null` token details where it wants ints). */
function intsOnly(o: unknown): Json {
  const out: Json = {};
  if (!isObj(o)) return out;
  for (const [k, v] of Object.entries(o)) if (typeof v === 'number' || v === undefined) out[k] = v;
  return out;
}

/** One attempt's share of an answer it served with others (a resumed stream). */
export interface UsagePart {
  tokens: NativeTokens;
  price: EndpointPricing;
  upstreamMicros: number;
}

/**
 * OpenAI's `usage` plus OpenRouter's `cost` (what the tenant is charged, in currency units) and
 * `cost_details` (what the upstream charged us, split into prompt and completion). An answer
 * resumed by a continuation passes its `parts`: the split is the sum of theirs, each at its own
 * endpoint's prices.
 */
export function presentUsage(
  tokens: NativeTokens,
  upstream: Json | null,
  cost: UsageEventV1['cost'],
  price: EndpointPricing,
  parts?: readonly UsagePart[],
): Json {
  const split = parts
    ? parts
        .map((p) => splitUpstreamCost(p.tokens, p.price, p.upstreamMicros))
        .reduce(
          (a, b) => ({
            promptMicros: a.promptMicros + b.promptMicros,
            completionMicros: a.completionMicros + b.completionMicros,
          }),
          { promptMicros: 0, completionMicros: 0 },
        )
    : splitUpstreamCost(tokens, price, cost.upstreamMicros);
  return {
    prompt_tokens: tokens.prompt,
    completion_tokens: tokens.completion,
    total_tokens: tokens.prompt + tokens.completion,
    ...(upstream ?? {}),
    prompt_tokens_details: {
      cached_tokens: tokens.cachedRead,
      ...intsOnly(upstream?.['prompt_tokens_details']),
    },
    completion_tokens_details: {
      reasoning_tokens: tokens.reasoning,
      ...(isObj(upstream?.['completion_tokens_details'])
        ? upstream['completion_tokens_details']
        : {}),
    },
    cost: currency(cost.chargedMicros),
    cost_details: {
      upstream_inference_cost: currency(cost.upstreamMicros),
      upstream_inference_prompt_cost: currency(split.promptMicros),
      upstream_inference_completions_cost: currency(split.completionMicros),
    },
    is_byok: false,
  };
}

export interface PresentOptions {
  /** OpenRouter's `reasoning.exclude`: the model reasons, the client does not see it. */
  excludeReasoning?: boolean;
}

const REASONING_FIELDS = ['reasoning', 'reasoning_details', 'reasoning_content'];

function withoutReasoning(m: Json): Json {
  const out = { ...m };
  for (const f of REASONING_FIELDS) delete out[f];
  return out;
}

/** Whether a request asked for reasoning to be left out of the answer. */
export function excludesReasoning(body: Json): boolean {
  const r = body['reasoning'];
  return (isObj(r) && r['exclude'] === true) || body['include_reasoning'] === false;
}

/**
 * A fingerprint for an upstream that sends none: OpenAI's schema wants a string and
 * `@openrouter/sdk` wants the key, so the serving backend (provider and model) is named by a
 * stable hash of it, as OpenAI's fingerprints name a backend configuration.
 */
function fingerprintOf(ours: Json): string {
  const seed = `${String(ours['provider'] ?? '')}/${String(ours['model'] ?? '')}`;
  return `fp_${createHash('sha256').update(seed).digest('hex').slice(0, 10)}`;
}

/**
 * A non-streaming completion under our id, model and provider. `system_fingerprint` is always
 * present (null when the upstream sent none): `@openrouter/sdk` requires the key.
 */
export function presentCompletion(
  completion: Json,
  ours: Json,
  usage: Json,
  opts: PresentOptions = {},
): Json {
  if (opts.excludeReasoning && Array.isArray(completion['choices'])) {
    completion = {
      ...completion,
      choices: completion['choices'].map((c: unknown) =>
        isObj(c) && isObj(c['message']) ? { ...c, message: withoutReasoning(c['message']) } : c,
      ),
    };
  }
  return {
    ...completion,
    object: 'chat.completion',
    system_fingerprint:
      typeof completion['system_fingerprint'] === 'string'
        ? completion['system_fingerprint']
        : fingerprintOf(ours),
    ...ours,
    usage,
  };
}

/**
 * An upstream stream chunk rewritten as ours (id, model, provider), or null for the usage-only
 * chunk (sent at the end, with the cost). `usage` is never on a content chunk: OpenAI documents
 * `usage: null` there when `include_usage` is set, but its clients do not need it and
 * `@openrouter/sdk` rejects it. A null `system_fingerprint` (the SDK wants a string or nothing)
 * is dropped too.
 */
export function presentChunk(chunk: Json, ours: Json, opts: PresentOptions = {}): Json | null {
  let choices = Array.isArray(chunk['choices']) ? chunk['choices'] : [];
  if (choices.length === 0) return null;
  if (opts.excludeReasoning) {
    // The model reasoned but the client asked not to see it: drop it, and drop a chunk that
    // carried nothing else.
    choices = choices.map((c: unknown) =>
      isObj(c) && isObj(c['delta']) ? { ...c, delta: withoutReasoning(c['delta']) } : c,
    );
    const empty = choices.every(
      (c: unknown) =>
        isObj(c) &&
        c['finish_reason'] == null &&
        (!isObj(c['delta']) || Object.keys(c['delta']).length === 0),
    );
    if (empty) return null;
    chunk = { ...chunk, choices };
  }
  const out: Json = {
    ...chunk,
    ...ours,
    created: chunk['created'] ?? ours['created'] ?? Math.floor(Date.now() / 1000),
  };
  delete out['usage'];
  if (typeof out['system_fingerprint'] !== 'string') delete out['system_fingerprint'];
  return out;
}

/**
 * The error chunk that ends a stream failing after its first token, in OpenRouter's shape: a
 * numeric `code` (the HTTP status the error would have had), the message, and our string code as
 * `metadata.error_type`; `type` as OpenAI's clients name it. Both the `openai` clients and
 * `@openrouter/sdk` raise it as an error.
 */
export function streamErrorChunk(
  base: Json,
  error: { status: number; message: string; code: string | null; type: string },
): Json {
  return {
    ...base,
    error: {
      code: error.status,
      message: error.message,
      type: error.type,
      metadata: { error_type: error.code ?? error.type },
    },
    choices: [
      { index: 0, delta: { content: '' }, finish_reason: 'error', native_finish_reason: 'error' },
    ],
  };
}
