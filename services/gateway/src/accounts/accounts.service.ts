import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import { TOPICS, type AccountKeyV1 } from '@turnpike/contracts';
import { encode } from '@turnpike/kafka';
import { notFound } from '@turnpike/openai-api';
import { ProducerService } from '@turnpike/service-kit';
import { ApiKeyEntity } from './api-key.entity.js';
import { KeyCacheService } from './key-cache.service.js';
import { hashKey, newKeySecret, randomToken } from './key-secret.js';
import { TenantEntity } from './tenant.entity.js';

export interface CreatedKey {
  id: string;
  key: string;
  name: string;
  tenant_id: string;
  created_at: string;
}

/**
 * Tenants and API keys. Postgres (schema `accounts`) is the record; every change is also
 * published on the compacted `accounts.keys.v1` topic, from which every gateway replica keeps
 * its in-memory key cache.
 */
@Injectable()
export class AccountsService {
  constructor(
    @InjectDataSource() private readonly db: DataSource,
    private readonly producer: ProducerService,
    private readonly keys: KeyCacheService,
  ) {}

  /** Creates a tenant, or returns the one that already has `id` (`created: false`). */
  async createTenant(
    name: string,
    id?: string,
  ): Promise<{ tenant: TenantEntity; created: boolean }> {
    const repo = this.db.getRepository(TenantEntity);
    const tenantId = id ?? `tnt_${randomToken(16)}`;
    // One statement, so two concurrent creates of one id cannot both insert (or both fail).
    const inserted = await repo
      .createQueryBuilder()
      .insert()
      .values({ id: tenantId, name })
      .orIgnore()
      .returning('*')
      .execute();
    const tenant = await repo.findOneByOrFail({ id: tenantId });
    return { tenant, created: (inserted.raw as unknown[]).length > 0 };
  }

  async getTenant(id: string): Promise<TenantEntity | null> {
    return this.db.getRepository(TenantEntity).findOneBy({ id });
  }

  async createKey(tenantId: string, name: string): Promise<CreatedKey> {
    const tenant = await this.getTenant(tenantId);
    if (!tenant) throw notFound(`Tenant '${tenantId}'`);
    const secret = newKeySecret();
    const repo = this.db.getRepository(ApiKeyEntity);
    const row = await repo.save(
      repo.create({
        id: `key_${randomToken(16)}`,
        keyHash: hashKey(secret),
        keyPrefix: secret.slice(0, 14),
        tenantId,
        name,
        disabled: false,
      }),
    );
    await this.publish(row);
    return {
      id: row.id,
      key: secret,
      name: row.name,
      tenant_id: tenantId,
      created_at: row.createdAt.toISOString(),
    };
  }

  async listKeys(tenantId: string): Promise<ApiKeyEntity[]> {
    return this.db
      .getRepository(ApiKeyEntity)
      .find({ where: { tenantId }, order: { createdAt: 'ASC' } });
  }

  async disableKey(keyId: string): Promise<ApiKeyEntity> {
    const repo = this.db.getRepository(ApiKeyEntity);
    const row = await repo.findOneBy({ id: keyId });
    if (!row) throw notFound(`Key '${keyId}'`);
    row.disabled = true;
    await repo.save(row);
    await this.publish(row);
    return row;
  }

  /** Publishes the key's state, and applies it here at once (other replicas follow the topic). */
  private async publish(row: ApiKeyEntity): Promise<void> {
    const value: AccountKeyV1 = {
      v: 1,
      keyId: row.id,
      keyHash: row.keyHash,
      tenantId: row.tenantId,
      name: row.name,
      disabled: row.disabled,
      updatedAt: Date.now(),
    };
    await this.producer.send(TOPICS.accountsKeys, encode(TOPICS.accountsKeys, row.keyHash, value));
    this.keys.apply(row.keyHash, value);
  }
}
