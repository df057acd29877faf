import { Module, type DynamicModule } from '@nestjs/common';
import { getDataSourceToken } from '@nestjs/typeorm';
import type { DataSource } from 'typeorm';
import {
  CoreModule,
  DatabaseModule,
  RPC_SERVICE_NAME,
  RpcServerService,
} from '@turnpike/service-kit';
import { AccountAdminHandlers } from './accounts/account-admin.handlers.js';
import { AccountsView } from './accounts/accounts-view.service.js';
import { CONNECTOR_MIGRATIONS } from './accounts/accounts.migrations.js';
import { ACCOUNT_STORE, AccountsService } from './accounts/accounts.service.js';
import { PgAccountStore } from './accounts/pg-account.store.js';
import { ConnectorConfig } from './connector.config.js';
import { AttemptExecutorService } from './generation/attempt-executor.service.js';
import { GenerationWorker } from './generation/generation-worker.service.js';

/**
 * The connector: provider accounts (schema `connector`, sealed; followed by every instance from
 * `connector.accounts.v1`), their admin commands over `rpc.connector.v1`, and the generations of
 * `llm.requests.v1` run against the upstreams with them.
 */
@Module({})
export class ConnectorModule {
  static forRoot(config: ConnectorConfig): DynamicModule {
    return {
      module: ConnectorModule,
      imports: [
        CoreModule.forRoot(config),
        DatabaseModule.forRoot({
          url: config.databaseUrl,
          schema: 'connector',
          entities: [],
          migrations: CONNECTOR_MIGRATIONS,
          poolSize: 4,
        }),
      ],
      providers: [
        {
          provide: ACCOUNT_STORE,
          inject: [getDataSourceToken()],
          useFactory: (db: DataSource) => new PgAccountStore(db),
        },
        { provide: RPC_SERVICE_NAME, useValue: 'connector' },
        RpcServerService,
        AccountsView,
        AccountsService,
        AccountAdminHandlers,
        AttemptExecutorService,
        GenerationWorker,
      ],
    };
  }
}
