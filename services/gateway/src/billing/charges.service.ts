import { Injectable } from '@nestjs/common';
import type { NativeTokens, UsageEventV1 } from '@turnpike/contracts';
import { upstreamCostMicros } from '@turnpike/pricing';
import type { AuthContext } from '../auth/auth-context.js';
import type { Candidate } from '../completions/route-planner.service.js';

/** A hold on a tenant's credit for one in-flight generation. */
export interface Reservation {
  release(): void;
}

const NO_RESERVATION: Reservation = { release: () => undefined };

/**
 * The money side of a generation in the gateway: admission before any upstream call, and the
 * price of what was served. (Markup rules, balances, reservations and 402 are the billing
 * issue; until then admission always succeeds and the charge equals the upstream cost.)
 */
@Injectable()
export class ChargesService {
  /** Throws the 402 to answer when the worst case cannot be covered; otherwise holds it. */
  admit(_auth: AuthContext, _candidates: Candidate[], _body: Record<string, unknown>): Reservation {
    return NO_RESERVATION;
  }

  /**
   * Upstream cost and charged price, in integer micro-units. Errors and empty completions are
   * free; an aborted stream pays for what was produced.
   */
  price(_auth: AuthContext, candidate: Candidate, tokens: NativeTokens, chargeable: boolean): UsageEventV1['cost'] {
    const upstreamMicros = upstreamCostMicros(tokens, candidate.endpoint.pricing);
    const free = !chargeable || tokens.completion === 0;
    return { currency: 'USD', upstreamMicros, chargedMicros: free ? 0 : upstreamMicros };
  }
}
