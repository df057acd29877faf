import type { DataSource } from 'typeorm';
import type {
  AdminReview,
  AdminReviewList,
  CommunityScope,
  CommunitySettings,
  FeedbackCategory,
  FeedbackRecord,
  ModelRating,
  ModelReview,
  Thumbs,
} from '@turnpike/contracts';
import { emptyRating, mean2, type CommunityDirectory } from './community-directory.js';

type Row = Record<string, unknown>;

const iso = (v: unknown): string => new Date(v as string | Date).toISOString();
const isoOrNull = (v: unknown): string | null => (v === null ? null : iso(v));

export interface FeedbackInput {
  tenantId: string;
  keyId: string;
  generationId: string;
  model: string;
  provider: string | null;
  endpointId: string | null;
  category: FeedbackCategory;
  comment: string | null;
  thumbs: Thumbs | null;
  score: number | null;
}

/**
 * The community's records in analytics' schema (see `community.migrations.ts`): every SQL
 * statement of the community lives here. It is also the `CommunityDirectory` rankings and
 * comparison read: the opted-in tenants, and the ratings a caller may see.
 */
export class CommunityStore implements CommunityDirectory {
  private readonly s: string;

  constructor(
    private readonly db: DataSource,
    schema: string,
  ) {
    this.s = `"${schema}"`;
  }

  /** The rows of a statement (TypeORM answers UPDATE and DELETE as `[rows, count]`). */
  private async rows(sql: string, params: unknown[] = []): Promise<Row[]> {
    const r: unknown = await this.db.query(sql, params);
    if (Array.isArray(r) && r.length === 2 && Array.isArray(r[0]) && typeof r[1] === 'number')
      return r[0] as Row[];
    return r as Row[];
  }

  // --- opt-in ----------------------------------------------------------------------------------

  async settings(tenantId: string): Promise<CommunitySettings> {
    const rows = await this.rows(
      `SELECT opted_in, updated_at FROM ${this.s}.community_settings WHERE tenant_id = $1`,
      [tenantId],
    );
    const r = rows[0];
    return r
      ? { tenantId, optedIn: r['opted_in'] === true, updatedAt: iso(r['updated_at']) }
      : { tenantId, optedIn: false, updatedAt: null };
  }

  async setSettings(tenantId: string, optedIn: boolean): Promise<CommunitySettings> {
    const rows = await this.rows(
      `INSERT INTO ${this.s}.community_settings (tenant_id, opted_in) VALUES ($1, $2)
       ON CONFLICT (tenant_id) DO UPDATE SET opted_in = EXCLUDED.opted_in, updated_at = now()
       RETURNING opted_in, updated_at`,
      [tenantId, optedIn],
    );
    return {
      tenantId,
      optedIn: rows[0]!['opted_in'] === true,
      updatedAt: iso(rows[0]!['updated_at']),
    };
  }

  async optedInTenants(): Promise<string[]> {
    const rows = await this.rows(
      `SELECT tenant_id FROM ${this.s}.community_settings WHERE opted_in ORDER BY tenant_id`,
    );
    return rows.map((r) => r['tenant_id'] as string);
  }

  // --- ratings -----------------------------------------------------------------------------------

  /** Whose records count for `caller` under `scope` (SQL over the alias `x`, settings `cs`). */
  private counts(scope: CommunityScope): string {
    return scope === 'own' ? `x.tenant_id = $2` : `(x.tenant_id = $2 OR cs.opted_in)`;
  }

  async ratings(
    models: readonly string[],
    caller: string,
    scope: CommunityScope,
  ): Promise<Map<string, ModelRating>> {
    const out = new Map(models.map((m) => [m, emptyRating(m)]));
    if (models.length === 0) return out;
    const [reviews, feedback] = await Promise.all([
      this.rows(
        `SELECT x.model, count(*)::int AS n, sum(x.score)::int AS total
           FROM ${this.s}.model_reviews x
           LEFT JOIN ${this.s}.community_settings cs ON cs.tenant_id = x.tenant_id
          WHERE x.model = ANY($1::text[]) AND NOT x.hidden AND ${this.counts(scope)}
          GROUP BY x.model`,
        [models, caller],
      ),
      this.rows(
        `SELECT x.model,
                count(*) FILTER (WHERE x.thumbs = 'up')::int AS up,
                count(*) FILTER (WHERE x.thumbs = 'down')::int AS down,
                count(x.score)::int AS scored,
                coalesce(sum(x.score), 0)::int AS total
           FROM ${this.s}.generation_feedback x
           LEFT JOIN ${this.s}.community_settings cs ON cs.tenant_id = x.tenant_id
          WHERE x.model = ANY($1::text[]) AND ${this.counts(scope)}
          GROUP BY x.model`,
        [models, caller],
      ),
    ]);
    for (const r of reviews) {
      const rating = out.get(r['model'] as string)!;
      rating.reviews = r['n'] as number;
      rating.averageScore = mean2(r['total'] as number, rating.reviews);
    }
    for (const r of feedback) {
      const rating = out.get(r['model'] as string)!;
      rating.thumbsUp = r['up'] as number;
      rating.thumbsDown = r['down'] as number;
      rating.feedbackScored = r['scored'] as number;
      rating.averageFeedbackScore = mean2(r['total'] as number, rating.feedbackScored);
    }
    return out;
  }

  // --- abuse limit ---------------------------------------------------------------------------

  /**
   * Counts one write of the tenant in the current UTC minute (shared by every analytics
   * instance) and answers how many it made in that minute, this one included.
   */
  async countWrite(tenantId: string): Promise<number> {
    const rows = await this.rows(
      `WITH gone AS (
         DELETE FROM ${this.s}.community_write_windows
          WHERE tenant_id = $1 AND window_start < date_trunc('minute', now()))
       INSERT INTO ${this.s}.community_write_windows (tenant_id, window_start, writes)
       VALUES ($1, date_trunc('minute', now()), 1)
       ON CONFLICT (tenant_id, window_start)
       DO UPDATE SET writes = community_write_windows.writes + 1
       RETURNING writes`,
      [tenantId],
    );
    return rows[0]!['writes'] as number;
  }

  // --- feedback --------------------------------------------------------------------------------

  /** Records (or replaces) the feedback on a generation of the tenant. */
  async putFeedback(f: FeedbackInput): Promise<FeedbackRecord> {
    const rows = await this.rows(
      `INSERT INTO ${this.s}.generation_feedback
         (generation_id, tenant_id, key_id, model, provider, endpoint_id, category, comment, thumbs, score)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (generation_id) DO UPDATE SET
         key_id = EXCLUDED.key_id, category = EXCLUDED.category, comment = EXCLUDED.comment,
         thumbs = EXCLUDED.thumbs, score = EXCLUDED.score, updated_at = now()
       WHERE generation_feedback.tenant_id = EXCLUDED.tenant_id
       RETURNING generation_id, model, category, comment, thumbs, score, created_at, updated_at`,
      [
        f.generationId,
        f.tenantId,
        f.keyId,
        f.model,
        f.provider,
        f.endpointId,
        f.category,
        f.comment,
        f.thumbs,
        f.score,
      ],
    );
    const r = rows[0];
    // Another tenant's generation id (the gateway asked billing first, so this is a bug).
    if (!r) throw new Error(`feedback on ${f.generationId} belongs to another tenant`);
    return {
      generationId: r['generation_id'] as string,
      model: r['model'] as string,
      category: r['category'] as FeedbackCategory,
      comment: r['comment'] as string | null,
      thumbs: r['thumbs'] as Thumbs | null,
      score: r['score'] === null ? null : Number(r['score']),
      createdAt: iso(r['created_at']),
      updatedAt: iso(r['updated_at']),
    };
  }

  // --- reviews ---------------------------------------------------------------------------------

  private review(r: Row, caller: string): ModelReview {
    return {
      id: String(r['id']),
      model: r['model'] as string,
      score: Number(r['score']),
      text: r['text'] as string,
      mine: r['tenant_id'] === caller,
      hidden: r['hidden'] === true,
      createdAt: iso(r['created_at']),
      updatedAt: iso(r['updated_at']),
    };
  }

  async ownReview(tenantId: string, model: string): Promise<ModelReview | null> {
    const rows = await this.rows(
      `SELECT * FROM ${this.s}.model_reviews WHERE tenant_id = $1 AND model = $2`,
      [tenantId, model],
    );
    return rows[0] ? this.review(rows[0], tenantId) : null;
  }

  /** Writes the tenant's review of the model (a hidden review stays hidden when edited). */
  async putReview(
    tenantId: string,
    model: string,
    score: number,
    text: string,
  ): Promise<{ review: ModelReview; created: boolean }> {
    const rows = await this.rows(
      `INSERT INTO ${this.s}.model_reviews (tenant_id, model, score, text) VALUES ($1, $2, $3, $4)
       ON CONFLICT (tenant_id, model) DO UPDATE SET
         score = EXCLUDED.score, text = EXCLUDED.text, updated_at = now()
       RETURNING *, (xmax = 0) AS created`,
      [tenantId, model, score, text],
    );
    return { review: this.review(rows[0]!, tenantId), created: rows[0]!['created'] === true };
  }

  async deleteReview(tenantId: string, model: string): Promise<boolean> {
    const rows = await this.rows(
      `DELETE FROM ${this.s}.model_reviews WHERE tenant_id = $1 AND model = $2 RETURNING id`,
      [tenantId, model],
    );
    return rows.length > 0;
  }

  /** The reviews of a model the caller may see: its own first, then the newest. */
  async listReviews(
    caller: string,
    scope: CommunityScope,
    model: string,
    limit: number,
    offset: number,
  ): Promise<{ data: ModelReview[]; total: number }> {
    const visible = `x.model = $1 AND (x.tenant_id = $2 OR ${
      scope === 'own' ? 'false' : '(cs.opted_in AND NOT x.hidden)'
    })`;
    const from = `${this.s}.model_reviews x
      LEFT JOIN ${this.s}.community_settings cs ON cs.tenant_id = x.tenant_id`;
    const [rows, count] = await Promise.all([
      this.rows(
        `SELECT x.* FROM ${from} WHERE ${visible}
          ORDER BY (x.tenant_id = $2) DESC, x.updated_at DESC, x.id DESC
          LIMIT $3 OFFSET $4`,
        [model, caller, limit, offset],
      ),
      this.rows(`SELECT count(*)::int AS n FROM ${from} WHERE ${visible}`, [model, caller]),
    ]);
    return { data: rows.map((r) => this.review(r, caller)), total: count[0]!['n'] as number };
  }

  // --- moderation ------------------------------------------------------------------------------

  private adminReview(r: Row): AdminReview {
    const { mine: _mine, ...rest } = this.review(r, '');
    return {
      ...rest,
      tenantId: r['tenant_id'] as string,
      hiddenAt: isoOrNull(r['hidden_at']),
      hiddenReason: (r['hidden_reason'] as string | null) ?? null,
    };
  }

  async adminList(
    model: string | null,
    hidden: boolean | null,
    limit: number,
    after: string | null,
  ): Promise<AdminReviewList> {
    const rows = await this.rows(
      `SELECT * FROM ${this.s}.model_reviews
        WHERE ($1::text IS NULL OR model = $1) AND ($2::boolean IS NULL OR hidden = $2)
          AND id > $3::bigint
        ORDER BY id LIMIT $4`,
      [model, hidden, after ?? '0', limit + 1],
    );
    return {
      data: rows.slice(0, limit).map((r) => this.adminReview(r)),
      hasMore: rows.length > limit,
    };
  }

  async setHidden(id: string, hidden: boolean, reason: string | null): Promise<AdminReview | null> {
    const rows = await this.rows(
      `UPDATE ${this.s}.model_reviews SET hidden = $2,
              hidden_at = CASE WHEN $2 THEN now() ELSE NULL END,
              hidden_reason = CASE WHEN $2 THEN $3 ELSE NULL END
        WHERE id = $1::bigint RETURNING *`,
      [id, hidden, reason],
    );
    return rows[0] ? this.adminReview(rows[0]) : null;
  }
}
