import { Injectable, type OnModuleDestroy, type OnModuleInit } from '@nestjs/common';
import type { EndpointPricing, Micros, NativeTokens } from '@turnpike/contracts';
import { ApiError } from '@turnpike/openai-api';
import { estimatePrompt } from '@turnpike/providers';
import {
  attemptCostMicros,
  formatMicros,
  maxOutputTokens,
  priceParts,
  worstCaseChargeMicros,
} from '@turnpike/pricing';
import type { AuthContext } from '../auth/auth-context.js';
import type { Candidate } from '../completions/route-planner.service.js';
import { GatewayConfig } from '../gateway.config.js';
import { admits, type Hold } from './reservation-book.js';
import { BalancesView, MarkupsView, Reservations } from './billing-views.service.js';

/**
 * A hold on a tenant's (and key's) credit for one generation. `settle` is called once, when the
 * generation ends, with its charge: the hold then stays until billing's balance update that
 * includes the generation arrives (the charge has landed), or goes at once if nothing was
 * charged. `release` drops it whatever its state.
 */
export interface Reservation {
  settle(generationId: string, chargedMicros: number): void;
  release(): void;
}

const FREE: Reservation = { settle: () => undefined, release: () => undefined };

/**
 * The money side of a generation in the gateway, all in memory:
 * - `admit()` before any upstream call: the request's worst case (prompt estimate plus
 *   max_tokens, or the endpoint's max output, at the dearest endpoint it may be routed to,
 *   markup included) must be covered by the tenant's balance, and by its key's limit, net of
 *   this replica's holds; otherwise a 402. With R replicas, each may hold at most 1/R of the
 *   balance, except that an idle replica may admit one request the whole balance covers. So a
 *   burst spread over the replicas overspends at most (R - 1) x the largest worst case; see
 *   services/billing/README.md for the general bound.
 * - `priceParts()`: the upstream cost from native tokens and the charged price with the tenant's
 *   and model's markup, per serving attempt; errors and empty completions are free.
 */
@Injectable()
export class ChargesService implements OnModuleInit, OnModuleDestroy {
  private sweeper: NodeJS.Timeout | null = null;

  constructor(
    private readonly config: GatewayConfig,
    private readonly balances: BalancesView,
    private readonly markups: MarkupsView,
    private readonly reservations: Reservations,
  ) {}

  onModuleInit(): void {
    this.sweeper = setInterval(() => this.reservations.expire(), 30_000);
    this.sweeper.unref();
  }

  onModuleDestroy(): void {
    if (this.sweeper) clearInterval(this.sweeper);
  }

  /** Throws the 402 to answer when the worst case cannot be covered; otherwise holds it. */
  admit(auth: AuthContext, candidates: Candidate[], body: Record<string, unknown>): Reservation {
    // A high figure from the one token estimator (exact for prompts up to 32 K characters,
    // extrapolated with a margin above: docs/architecture.md, "Token estimates").
    const promptTokens = estimatePrompt(body).high;
    let worst = 0;
    let outputTokens = 0;
    for (const c of candidates) {
      const w = worstCaseChargeMicros(
        body,
        c.endpoint,
        this.markups.book.resolve(auth.tenantId, c.model.id),
        promptTokens,
      );
      if (w >= worst) {
        worst = w;
        outputTokens = maxOutputTokens(body, c.endpoint);
      }
    }
    if (worst === 0) return FREE;
    const replicas = this.config.replicas;
    const available = this.balances.available(auth.tenantId);
    const held = this.reservations.held(auth.tenantId);
    if (!admits(available, held, worst, replicas)) {
      throw paymentRequired(
        `Insufficient credits: this request may cost up to $${formatMicros(worst)} (about ${promptTokens} prompt tokens and up to ` +
          `${outputTokens} output tokens), and the available balance is $${formatMicros(Math.max(0, available - held))}. ` +
          'Add credits, or lower max_tokens.',
        { worst_case_cost_micros: worst, balance_micros: available, reserved_micros: held },
      );
    }
    const keyRemaining = this.balances.keyRemaining(auth.keyId);
    if (keyRemaining !== null) {
      const keyHeld = this.reservations.heldByKey(auth.keyId);
      if (!admits(keyRemaining, keyHeld, worst, replicas)) {
        throw paymentRequired(
          `This key's credit limit is reached: this request may cost up to $${formatMicros(worst)}, and the key may spend ` +
            `$${formatMicros(Math.max(0, keyRemaining - keyHeld))} more in its current period. Raise the key's limit, or lower max_tokens.`,
          {
            worst_case_cost_micros: worst,
            key_limit_remaining_micros: keyRemaining,
            reserved_micros: keyHeld,
          },
          'key_limit_exceeded',
        );
      }
    }
    const hold = this.reservations.hold(auth.tenantId, auth.keyId, worst);
    return reservation(this.reservations, hold);
  }

  /**
   * The cost and charge of a generation, from the billed tokens of each attempt that served it
   * (one, or several when a cut answer was resumed by a continuation): each at its endpoint's
   * prices and its model's markup; the per-request price and fixed fee once (`priceParts`).
   * Errors and empty completions are free; an aborted stream pays for what was produced.
   */
  priceParts(
    auth: AuthContext,
    parts: ReadonlyArray<{ candidate: Candidate; tokens: NativeTokens }>,
    chargeable: boolean,
  ): ReturnType<typeof priceParts> {
    return priceParts(
      parts.map((p, i) => ({
        tokens: p.tokens,
        price: p.candidate.endpoint.pricing,
        markup: this.markups.book.resolve(auth.tenantId, p.candidate.model.id),
        first: i === 0,
      })),
      chargeable,
    );
  }

  /** What one attempt cost us upstream (nothing when it consumed nothing). */
  attemptCost(tokens: NativeTokens, pricing: EndpointPricing): Micros {
    return attemptCostMicros(tokens, pricing);
  }
}

function reservation(book: Reservations, hold: Hold): Reservation {
  return {
    settle: (generationId, chargedMicros) => book.settle(hold, generationId, chargedMicros),
    release: () => book.release(hold),
  };
}

function paymentRequired(
  message: string,
  metadata: Record<string, unknown>,
  code = 'insufficient_quota',
): ApiError {
  return new ApiError({ status: 402, type: 'insufficient_quota', code, message, metadata });
}
