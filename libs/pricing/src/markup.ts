import { markupRuleKey, type MarkupRuleFields, type Micros } from '@turnpike/contracts';

/** A markup: a percentage of the upstream cost (basis points) and a fixed fee per request. */
export interface Markup {
  percentBps: number;
  fixedMicros: Micros;
}

export const NO_MARKUP: Markup = Object.freeze({ percentBps: 0, fixedMicros: 0 });

const BPS = 10_000n;

/**
 * The charged price of a generation: upstream cost plus the markup. The percentage is taken of
 * the (already rounded) upstream cost and rounded up to the next micro-unit; the fixed fee is
 * added as is. Integer arithmetic only (BigInt for the product).
 */
export function applyMarkup(upstreamMicros: Micros, markup: Markup): Micros {
  if (!Number.isSafeInteger(upstreamMicros) || upstreamMicros < 0)
    throw new RangeError(`bad upstream cost ${upstreamMicros}`);
  const up = BigInt(upstreamMicros);
  const percent = (up * BigInt(markup.percentBps) + BPS - 1n) / BPS;
  return Number(up + percent + BigInt(markup.fixedMicros));
}

/**
 * What the tenant is charged for one generation. Errors and empty completions are free (no
 * fixed fee either); an aborted stream pays for what was produced.
 */
export function chargeMicros(upstreamMicros: Micros, markup: Markup, chargeable: boolean): Micros {
  return chargeable ? applyMarkup(upstreamMicros, markup) : 0;
}

/**
 * The markup rules in force, indexed for lookup on the hot path. The most specific rule wins:
 * tenant and model, then tenant, then model, then the global rule, then no markup. (A tenant's
 * negotiated rule overrides a model's default; a tenant-and-model rule overrides both.)
 */
export class MarkupBook {
  private readonly rules = new Map<string, MarkupRuleFields>();

  set(rule: MarkupRuleFields): void {
    this.rules.set(markupRuleKey(rule.tenantId, rule.model), rule);
  }

  delete(key: string): void {
    this.rules.delete(key);
  }

  clear(): void {
    this.rules.clear();
  }

  get size(): number {
    return this.rules.size;
  }

  list(): MarkupRuleFields[] {
    return [...this.rules.values()];
  }

  /** The rule that applies to a tenant's request for a model, or null (no markup). */
  ruleFor(tenantId: string, model: string): MarkupRuleFields | null {
    return (
      this.rules.get(markupRuleKey(tenantId, model)) ??
      this.rules.get(markupRuleKey(tenantId, null)) ??
      this.rules.get(markupRuleKey(null, model)) ??
      this.rules.get(markupRuleKey(null, null)) ??
      null
    );
  }

  resolve(tenantId: string, model: string): Markup {
    return this.ruleFor(tenantId, model) ?? NO_MARKUP;
  }
}
