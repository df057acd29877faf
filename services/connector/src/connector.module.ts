import { Module, type DynamicModule } from '@nestjs/common';
import { CoreModule } from '@turnpike/service-kit';
import { ConnectorConfig } from './connector.config.js';
import { ProviderAccountsService } from './credentials/provider-accounts.service.js';
import { GenerationRunner } from './generation/generation-runner.service.js';
import { GenerationWorker } from './generation/generation-worker.service.js';

@Module({})
export class ConnectorModule {
  static forRoot(config: ConnectorConfig): DynamicModule {
    return {
      module: ConnectorModule,
      imports: [CoreModule.forRoot(config)],
      providers: [ProviderAccountsService, GenerationRunner, GenerationWorker],
    };
  }
}
