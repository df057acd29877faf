import type { DataSource, EntityManager } from 'typeorm';
import { ProviderAccountV1, SealedSecret } from '@turnpike/contracts';
import type { AccountRow, AccountStore, AccountTx } from './account.store.js';

/** One lock for every account write of every connector instance (transaction-scoped). */
const WRITE_LOCK_SQL = `SELECT pg_advisory_xact_lock(hashtext('turnpike.connector.accounts'))`;

const COLUMNS = `id, provider_id, kind, owner, label, base_url, credential_type, status, weight,
  secret_version, revision, secret, hint, fingerprint, header_names,
  created_at, updated_at, rotated_at, mac`;

interface Row {
  id: string;
  provider_id: string;
  kind: string;
  owner: string;
  label: string;
  base_url: string;
  credential_type: string;
  status: string;
  weight: number;
  secret_version: number;
  revision: string | number;
  secret: unknown;
  hint: string;
  fingerprint: string;
  header_names: string[];
  created_at: Date;
  updated_at: Date;
  rotated_at: Date;
  mac: string;
}

/** A row back to the record; a row that does not parse is a bug or tampering: fail loudly. */
function toRecord(r: Row): AccountRow {
  return ProviderAccountV1.parse({
    v: 1,
    id: r.id,
    providerId: r.provider_id,
    kind: r.kind,
    owner: r.owner,
    label: r.label,
    baseUrl: r.base_url,
    credentialType: r.credential_type,
    status: r.status,
    weight: r.weight,
    secretVersion: r.secret_version,
    revision: Number(r.revision),
    secret: SealedSecret.parse(r.secret),
    hint: r.hint,
    fingerprint: r.fingerprint,
    headerNames: r.header_names,
    createdAt: r.created_at.getTime(),
    updatedAt: r.updated_at.getTime(),
    rotatedAt: r.rotated_at.getTime(),
    mac: r.mac,
  });
}

const params = (a: AccountRow): unknown[] => [
  a.id,
  a.providerId,
  a.kind,
  a.owner,
  a.label,
  a.baseUrl,
  a.credentialType,
  a.status,
  a.weight,
  a.secretVersion,
  a.revision,
  JSON.stringify(a.secret),
  a.hint,
  a.fingerprint,
  a.headerNames,
  new Date(a.createdAt),
  new Date(a.updatedAt),
  new Date(a.rotatedAt),
  a.mac,
];

async function select(
  q: (sql: string, p?: unknown[]) => Promise<unknown>,
  where: string,
  p: unknown[],
): Promise<AccountRow[]> {
  const rows = (await q(
    `SELECT ${COLUMNS} FROM connector.provider_accounts ${where} ORDER BY provider_id, created_at, id`,
    p,
  )) as Row[];
  return rows.map(toRecord);
}

class PgTx implements AccountTx {
  constructor(private readonly m: EntityManager) {}

  private q = (sql: string, p: unknown[] = []) => this.m.query(sql, p) as Promise<unknown>;

  list(providerId?: string): Promise<AccountRow[]> {
    return providerId === undefined
      ? select(this.q, '', [])
      : select(this.q, 'WHERE provider_id = $1', [providerId]);
  }

  async get(id: string): Promise<AccountRow | null> {
    return (await select(this.q, 'WHERE id = $1', [id]))[0] ?? null;
  }

  async insert(a: AccountRow): Promise<void> {
    await this.q(
      `INSERT INTO connector.provider_accounts (${COLUMNS})
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12::jsonb,$13,$14,$15,$16,$17,$18,$19)`,
      params(a),
    );
  }

  async update(a: AccountRow): Promise<void> {
    await this.q(
      `UPDATE connector.provider_accounts SET provider_id=$2, kind=$3, owner=$4, label=$5,
         base_url=$6, credential_type=$7, status=$8, weight=$9, secret_version=$10, revision=$11,
         secret=$12::jsonb, hint=$13, fingerprint=$14, header_names=$15, created_at=$16,
         updated_at=$17, rotated_at=$18, mac=$19
       WHERE id = $1`,
      params(a),
    );
  }

  async delete(id: string): Promise<boolean> {
    const r = (await this.q(`DELETE FROM connector.provider_accounts WHERE id = $1 RETURNING id`, [
      id,
    ])) as unknown[] | [unknown[], number];
    // pg through TypeORM: DELETE ... RETURNING gives [rows, count].
    const rows = Array.isArray(r[0]) ? (r[0] as unknown[]) : r;
    return rows.length > 0;
  }

  async bootstrapImports(providerId: string): Promise<string[]> {
    const rows = (await this.q(
      `SELECT fingerprint FROM connector.bootstrap_imports WHERE provider_id = $1`,
      [providerId],
    )) as Array<{ fingerprint: string }>;
    return rows.map((r) => r.fingerprint);
  }

  async recordBootstrapImport(
    providerId: string,
    fingerprint: string,
    accountId: string,
  ): Promise<void> {
    await this.q(
      `INSERT INTO connector.bootstrap_imports (provider_id, fingerprint, account_id)
       VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`,
      [providerId, fingerprint, accountId],
    );
  }
}

/** The accounts in Postgres (schema `connector`): all of the connector's SQL is here. */
export class PgAccountStore implements AccountStore {
  constructor(private readonly db: DataSource) {}

  write<T>(fn: (tx: AccountTx) => Promise<T>): Promise<T> {
    return this.db.transaction(async (m) => {
      await m.query(WRITE_LOCK_SQL);
      return fn(new PgTx(m));
    });
  }

  list(providerId?: string): Promise<AccountRow[]> {
    return new PgTx(this.db.manager).list(providerId);
  }

  get(id: string): Promise<AccountRow | null> {
    return new PgTx(this.db.manager).get(id);
  }
}
