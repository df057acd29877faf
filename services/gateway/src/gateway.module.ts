import {
  Module,
  type DynamicModule,
  type BeforeApplicationShutdown,
  Injectable,
  Logger,
} from '@nestjs/common';
import { CoreModule, DatabaseModule, httpRequestsInFlight, Readiness } from '@turnpike/service-kit';
import { AccountsService } from './accounts/accounts.service.js';
import { ACCOUNTS_MIGRATIONS } from './accounts/accounts.migrations.js';
import { AdminController } from './accounts/admin.controller.js';
import { ApiKeyEntity } from './accounts/api-key.entity.js';
import { KeyCacheService } from './accounts/key-cache.service.js';
import { TenantEntity } from './accounts/tenant.entity.js';
import { AdminGuard } from './auth/admin.guard.js';
import { AnalyticsController } from './analytics/analytics.controller.js';
import { ApiKeyGuard } from './auth/api-key.guard.js';
import { CatalogAdminController } from './catalog/catalog-admin.controller.js';
import { ModelsController } from './catalog/models.controller.js';
import { RoutingTableService } from './catalog/routing-table.service.js';
import { CommunityAdminController } from './community/community-admin.controller.js';
import { CommunityController, ProvidersController } from './community/community.controller.js';
import { FeedbackController } from './community/feedback.controller.js';
import { CompareController } from './compare/compare.controller.js';
import { CompareService } from './compare/compare.service.js';
import { CompletionsController } from './completions/completions.controller.js';
import { ConnectorAdmin } from './providers/connector-admin.service.js';
import { ProviderAccountsController } from './providers/provider-accounts.controller.js';
import { ChargesService } from './billing/charges.service.js';
import { BillingAdminController } from './billing/billing-admin.controller.js';
import { BalancesView, MarkupsView, Reservations } from './billing/billing-views.service.js';
import { BillingController } from './billing/billing.controller.js';
import { AttemptRunner } from './completions/attempt-runner.service.js';
import { CompletionsService } from './completions/completions.service.js';
import { RoutePlanner } from './completions/route-planner.service.js';
import { GatewayConfig } from './gateway.config.js';
import { generationTransportProviders } from './transport/generation-transport.js';
import { AttemptLoop } from './completions/attempt-loop.js';
import { GenerationBilling } from './completions/generation-bill.js';
import { UsageEvents } from './completions/usage-event.js';
import { RpcClientService } from './transport/rpc-client.service.js';
import { UsagePublisher } from './usage/usage-publisher.service.js';

/**
 * On SIGTERM (the listener is already closed and readiness says 503, see runService): every
 * open stream and unary request runs to its end, up to the drain deadline (SHUTDOWN_GRACE_MS);
 * then usage events still waiting for a late count go out with the gateway's estimates, and
 * HTTP closes. What is still open at the deadline is cut by the close.
 */
@Injectable()
class Drain implements BeforeApplicationShutdown {
  private readonly log = new Logger('drain');
  constructor(
    private readonly readiness: Readiness,
    private readonly completions: CompletionsService,
    private readonly config: GatewayConfig,
  ) {}

  async beforeApplicationShutdown(): Promise<void> {
    this.readiness.startDraining();
    const started = Date.now();
    const deadline = started + this.config.shutdownGraceMs;
    this.log.log(
      `draining ${this.completions.inFlightCount} in-flight generations and ${httpRequestsInFlight()} HTTP requests`,
    );
    while (
      (this.completions.inFlightCount > 0 || httpRequestsInFlight() > 0) &&
      Date.now() < deadline
    ) {
      await new Promise((r) => setTimeout(r, 50));
    }
    const left = this.completions.inFlightCount + httpRequestsInFlight();
    this.log.log(
      `drained in ${Date.now() - started} ms${left > 0 ? ` (${left} still open at the deadline)` : ''}`,
    );
    // Usage events still waiting for a late token count go out now, with the gateway's estimates.
    this.completions.settleAll();
    await new Promise((r) => setImmediate(r));
  }
}

@Module({})
export class GatewayModule {
  static forRoot(config: GatewayConfig): DynamicModule {
    return {
      module: GatewayModule,
      imports: [
        CoreModule.forRoot(config),
        DatabaseModule.forRoot({
          url: config.databaseUrl,
          schema: 'accounts',
          entities: [TenantEntity, ApiKeyEntity],
          migrations: ACCOUNTS_MIGRATIONS,
        }),
      ],
      controllers: [
        CompletionsController,
        ModelsController,
        AdminController,
        CatalogAdminController,
        ProviderAccountsController,
        BillingController,
        BillingAdminController,
        AnalyticsController,
        CommunityController,
        ProvidersController,
        FeedbackController,
        CommunityAdminController,
        CompareController,
      ],
      providers: [
        KeyCacheService,
        AccountsService,
        ApiKeyGuard,
        AdminGuard,
        RoutingTableService,
        ...generationTransportProviders(config),
        RpcClientService,
        ConnectorAdmin,
        UsagePublisher,
        RoutePlanner,
        Reservations,
        BalancesView,
        MarkupsView,
        ChargesService,
        AttemptRunner,
        AttemptLoop,
        GenerationBilling,
        UsageEvents,
        CompletionsService,
        CompareService,
        Drain,
      ],
    };
  }
}
