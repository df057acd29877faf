import { Injectable } from '@nestjs/common';
import type { CatalogEndpoint, CatalogModel } from '@turnpike/contracts';
import { modelNotFound, serviceUnavailable, type ChatCompletionRequest } from '@turnpike/openai-api';
import { rankEndpoints } from '@turnpike/routing';
import { RoutingTableService } from '../catalog/routing-table.service.js';
import { GatewayConfig } from '../gateway.config.js';

/** One place a request may be served: a model and one of its endpoints. */
export interface Candidate {
  model: CatalogModel;
  endpoint: CatalogEndpoint;
}

/**
 * Turns a request into the ordered candidates its attempts go to, from the in-memory routing
 * table: no extra hop. Throws the ApiError to answer when nothing can serve it.
 */
@Injectable()
export class RoutePlanner {
  constructor(
    private readonly table: RoutingTableService,
    private readonly config: GatewayConfig,
  ) {}

  plan(body: ChatCompletionRequest): Candidate[] {
    const entry = this.table.get(body.model);
    if (!entry) throw modelNotFound(body.model);
    const ranked = rankEndpoints(entry, { parameters: Object.keys(body) }).slice(0, this.config.maxAttempts);
    if (ranked.length === 0) {
      throw serviceUnavailable(`No endpoint currently serves '${body.model}'.`, undefined, { code: 'no_endpoints' });
    }
    return ranked.map((endpoint) => ({ model: entry.model, endpoint }));
  }
}
