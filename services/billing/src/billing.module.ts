import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  CoreModule,
  DatabaseModule,
  RPC_SERVICE_NAME,
  RpcServerService,
} from '@turnpike/service-kit';
import { BillingConfig } from './billing.config.js';
import { CreditsService } from './credits/credits.service.js';
import { BalancePublisher } from './ledger/balance-publisher.service.js';
import { LedgerConsumer } from './ledger/ledger-consumer.service.js';
import { ledgerMigrations } from './ledger/ledger.migrations.js';
import { LedgerStore } from './ledger/ledger.store.js';
import { MarkupRulesService } from './markup/markup-rules.service.js';
import { BillingRpcService } from './rpc/billing-rpc.service.js';

/**
 * The ledger (schema `billing`): books usage events and credit movements, publishes balances
 * and markup rules, and answers the gateway's billing queries and operator commands. In replay
 * mode only the ledger is built (another schema, a fresh consumer group), nothing is published
 * or answered.
 */
@Module({})
export class BillingModule {
  static forRoot(config: BillingConfig): DynamicModule {
    const primary: Provider[] = [
      { provide: RPC_SERVICE_NAME, useValue: 'billing' },
      RpcServerService,
      MarkupRulesService,
      CreditsService,
      BillingRpcService,
    ];
    return {
      module: BillingModule,
      imports: [
        CoreModule.forRoot(config),
        DatabaseModule.forRoot({
          url: config.databaseUrl,
          schema: config.schema,
          entities: [],
          migrations: ledgerMigrations(config.schema),
        }),
      ],
      providers: [
        {
          provide: LedgerStore,
          inject: [getDataSourceToken()],
          useFactory: (db: DataSource) => new LedgerStore(db, config.schema),
        },
        BalancePublisher,
        LedgerConsumer,
        ...(config.mode === 'primary' ? primary : []),
      ],
    };
  }
}
