import { Injectable } from '@nestjs/common';
import { zeroTokens, type NativeTokens, type UsageEventV1 } from '@turnpike/contracts';
import { countTokens, estimatePrompt } from '@turnpike/providers';
import { ChargesService } from '../billing/charges.service.js';
import { presentUsage } from './completion.presenter.js';
import type { Generation, ServedPart } from './generation.js';

type Json = Record<string, unknown>;

/** What the tenant is billed for a generation, per serving attempt and in all. */
export interface Bill {
  cost: UsageEventV1['cost'];
  tokens: NativeTokens;
  usageReported: boolean;
  parts: Array<{
    part: ServedPart;
    tokens: NativeTokens;
    upstreamMicros: number;
    chargedMicros: number;
  }>;
}

/**
 * The bill of one generation from its served parts (docs/architecture.md, "Money"), and the
 * `usage` object the client sees (OpenAI's counts with OpenRouter's `cost`), from the same bill.
 */
@Injectable()
export class GenerationBilling {
  constructor(private readonly charges: ChargesService) {}

  /**
   * What the tenant pays (docs/architecture.md, "Money"): the first serving attempt's prompt
   * once, and every completion token delivered, at the price of the endpoint that produced it,
   * each with its model's markup. A continuation's prompt and output that never reached the
   * client are our cost. An errored generation, or one that delivered no completion, is free.
   */
  bill(gen: Generation): Bill {
    const parts = gen.status === 'error' ? [] : gen.parts;
    const billed = parts.map((part, i) => ({ part, tokens: this.billedTokens(gen, part, i) }));
    const completion = billed.reduce((a, b) => a + b.tokens.completion, 0);
    const priced = this.charges.priceParts(
      gen.auth,
      billed.map((b) => ({ candidate: b.part.candidate, tokens: b.tokens })),
      gen.status !== 'error' && completion > 0,
    );
    const tokens = zeroTokens();
    for (const b of billed)
      for (const k of Object.keys(tokens) as Array<keyof NativeTokens>) tokens[k] += b.tokens[k];
    return {
      cost: {
        currency: 'USD',
        upstreamMicros: priced.upstreamMicros,
        chargedMicros: priced.chargedMicros,
      },
      tokens,
      usageReported:
        parts.length > 0 && parts.every((p) => p.ending !== 'cut' && p.entry.usageReported),
      parts: billed.map((b, i) => ({ ...b, ...priced.parts[i]! })),
    };
  }

  /** The tokens of one serving attempt the tenant pays for. */
  private billedTokens(gen: Generation, part: ServedPart, index: number): NativeTokens {
    const used = part.entry.tokens;
    let completion = used.completion;
    let reasoning = used.reasoning;
    if (part.ending === 'cut') {
      // Only what reached the client; the rest of what it produced is ours.
      ({ completion, reasoning } = part.delivered.tokens());
    } else if (part.ending === 'completed' && part.dropped !== '') {
      completion = Math.max(0, completion - countTokens(part.dropped));
      reasoning = Math.min(reasoning, completion);
    }
    if (index > 0) return { ...zeroTokens(), completion, reasoning };
    // The first serving attempt's prompt: the upstream's count, or for a cut attempt the
    // estimate the connector bills it by (the same estimator on the same request).
    const prompt =
      part.ending === 'cut'
        ? { prompt: estimatePrompt(gen.body as Json).tokens, cachedRead: 0, cacheWrite: 0 }
        : { prompt: used.prompt, cachedRead: used.cachedRead, cacheWrite: used.cacheWrite };
    return { ...prompt, completion, reasoning };
  }

  /** OpenAI usage plus OpenRouter's `cost` and `cost_details` (see completion.presenter.ts). */
  presentUsage(gen: Generation, upstream: Json | null): Json {
    const bill = this.bill(gen);
    const last = gen.last!;
    const single = bill.parts.length === 1;
    return {
      ...presentUsage(
        bill.tokens,
        // A resumed answer's counts are ours (the sum of its parts), not the last upstream's.
        single ? upstream : null,
        bill.cost,
        last.candidate.endpoint.pricing,
        single
          ? undefined
          : bill.parts.map((p) => ({
              tokens: p.tokens,
              price: p.part.candidate.endpoint.pricing,
              upstreamMicros: p.upstreamMicros,
            })),
      ),
      // Some counts are our tokenizer's (and billed as such).
      ...(bill.usageReported ? {} : { estimated: true }),
    };
  }
}
