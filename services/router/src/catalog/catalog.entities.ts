import { Column, Entity, PrimaryColumn } from 'typeorm';
import type { EndpointPricing } from '@turnpike/contracts';

@Entity({ name: 'providers' })
export class ProviderEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) kind!: string;
  @Column({ type: 'text', array: true }) overrides!: string[];
  @Column({ type: 'jsonb', nullable: true }) imported!: Record<string, unknown> | null;
}

@Entity({ name: 'models' })
export class ModelEntity {
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text' }) description!: string;
  @Column({ type: 'bigint', transformer: { to: (v: number) => v, from: (v: string) => Number(v) } })
  created!: number;
  @Column({ name: 'context_length', type: 'integer' }) contextLength!: number;
  @Column({ name: 'input_modalities', type: 'text', array: true }) inputModalities!: string[];
  @Column({ name: 'output_modalities', type: 'text', array: true }) outputModalities!: string[];
  /** Fields the operator overrode (see `overrides.ts`); an import leaves them as they are. */
  @Column({ type: 'text', array: true }) overrides!: string[];
  /** The values of the last import that brought this row; null when only the operator wrote it. */
  @Column({ type: 'jsonb', nullable: true }) imported!: Record<string, unknown> | null;
}

@Entity({ name: 'endpoints' })
export class EndpointEntity {
  /** `<model id>@<provider id>` */
  @PrimaryColumn({ type: 'text' }) id!: string;
  @Column({ name: 'model_id', type: 'text' }) modelId!: string;
  @Column({ name: 'provider_id', type: 'text' }) providerId!: string;
  @Column({ name: 'upstream_model', type: 'text' }) upstreamModel!: string;
  /** Integer micro-units per million tokens (and per request). */
  @Column({ type: 'jsonb' }) pricing!: EndpointPricing;
  @Column({ name: 'context_length', type: 'integer' }) contextLength!: number;
  @Column({ name: 'max_output_tokens', type: 'integer', nullable: true }) maxOutputTokens!:
    number | null;
  @Column({ type: 'text', nullable: true }) quantization!: string | null;
  @Column({ type: 'text', nullable: true }) region!: string | null;
  @Column({ name: 'data_collection', type: 'text' }) dataCollection!: 'allow' | 'deny';
  @Column({ name: 'supported_parameters', type: 'text', array: true })
  supportedParameters!: string[];
  /** A disabled endpoint stays in the catalog but is left out of the routing table. */
  @Column({ type: 'boolean', default: false }) disabled!: boolean;
  @Column({ type: 'text', array: true }) overrides!: string[];
  @Column({ type: 'jsonb', nullable: true }) imported!: Record<string, unknown> | null;
}

/** Models and endpoints the operator deleted: an import does not bring them back. */
@Entity({ name: 'deletions' })
export class DeletionEntity {
  @PrimaryColumn({ type: 'text' }) kind!: 'model' | 'endpoint';
  @PrimaryColumn({ type: 'text' }) id!: string;
}

/** Catalog files already applied (by content hash). */
@Entity({ name: 'seeds' })
export class SeedEntity {
  @PrimaryColumn({ name: 'file_hash', type: 'text' }) fileHash!: string;
  @Column({ name: 'file_path', type: 'text' }) filePath!: string;
}
