import type { CommunityScope, ModelRating, Thumbs } from '@turnpike/contracts';

/**
 * What rankings and comparison need of the community's own records: who opted in, and the
 * ratings a caller may see. `CommunityStore` answers it from Postgres; the in-memory one below,
 * with the same rules, serves the unit specs.
 *
 * The rules: under `community`, the opted-in tenants and the caller count (the caller always
 * sees its own figures, opted in or not); under `own`, the caller alone. A hidden review is
 * never counted.
 */
export interface CommunityDirectory {
  optedInTenants(): Promise<string[]>;
  ratings(
    models: readonly string[],
    caller: string,
    scope: CommunityScope,
  ): Promise<Map<string, ModelRating>>;
}

/** The tenants whose traffic a caller's answer counts under `scope`. */
export async function tenantsFor(
  dir: CommunityDirectory,
  caller: string,
  scope: CommunityScope,
): Promise<string[]> {
  if (scope === 'own') return [caller];
  return [...new Set([...(await dir.optedInTenants()), caller])].sort();
}

export const emptyRating = (model: string): ModelRating => ({
  model,
  reviews: 0,
  averageScore: null,
  thumbsUp: 0,
  thumbsDown: 0,
  feedbackScored: 0,
  averageFeedbackScore: null,
});

/** A mean rounded to two decimals (null for none). */
export const mean2 = (sum: number, n: number): number | null =>
  n === 0 ? null : Math.round((sum / n) * 100) / 100;

export interface ReviewFact {
  tenantId: string;
  model: string;
  score: number;
  hidden: boolean;
}

export interface FeedbackFact {
  tenantId: string;
  model: string;
  thumbs: Thumbs | null;
  score: number | null;
}

/** The directory's rules over records held in memory (the unit specs' directory). */
export class InMemoryCommunityDirectory implements CommunityDirectory {
  readonly optedIn = new Set<string>();
  readonly reviews: ReviewFact[] = [];
  readonly feedback: FeedbackFact[] = [];

  optedInTenants(): Promise<string[]> {
    return Promise.resolve([...this.optedIn].sort());
  }

  ratings(
    models: readonly string[],
    caller: string,
    scope: CommunityScope,
  ): Promise<Map<string, ModelRating>> {
    const counts = (tenant: string) =>
      tenant === caller || (scope === 'community' && this.optedIn.has(tenant));
    const out = new Map(models.map((m) => [m, emptyRating(m)]));
    const sums = new Map<string, { review: number; feedback: number }>();
    for (const r of this.reviews) {
      const rating = out.get(r.model);
      if (!rating || r.hidden || !counts(r.tenantId)) continue;
      rating.reviews++;
      const s = sums.get(r.model) ?? { review: 0, feedback: 0 };
      s.review += r.score;
      sums.set(r.model, s);
    }
    for (const f of this.feedback) {
      const rating = out.get(f.model);
      if (!rating || !counts(f.tenantId)) continue;
      if (f.thumbs === 'up') rating.thumbsUp++;
      if (f.thumbs === 'down') rating.thumbsDown++;
      if (f.score !== null) {
        rating.feedbackScored++;
        const s = sums.get(f.model) ?? { review: 0, feedback: 0 };
        s.feedback += f.score;
        sums.set(f.model, s);
      }
    }
    for (const r of out.values()) {
      r.averageScore = mean2(sums.get(r.model)?.review ?? 0, r.reviews);
      r.averageFeedbackScore = mean2(sums.get(r.model)?.feedback ?? 0, r.feedbackScored);
    }
    return Promise.resolve(out);
  }
}
