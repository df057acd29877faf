import { Controller, Get, Param } from '@nestjs/common';
import { modelNotFound } from '@turnpike/openai-api';
import { presentEndpoints, presentModel } from './models.presenter.js';
import { RoutingTableService } from './routing-table.service.js';

/** The public catalog (unauthenticated, like OpenRouter's). */
@Controller('v1/models')
export class ModelsController {
  constructor(private readonly table: RoutingTableService) {}

  @Get()
  list(): { object: 'list'; data: Record<string, unknown>[] } {
    return { object: 'list', data: this.table.all().map(presentModel) };
  }

  @Get(':author/:slug')
  one(@Param('author') author: string, @Param('slug') slug: string): Record<string, unknown> {
    const entry = this.table.get(`${author}/${slug}`);
    if (!entry) throw modelNotFound(`${author}/${slug}`);
    return presentModel(entry);
  }

  /** The model's endpoints with live uptime, latency and throughput (OpenRouter's shape). */
  @Get(':author/:slug/endpoints')
  endpoints(
    @Param('author') author: string,
    @Param('slug') slug: string,
  ): { data: Record<string, unknown> } {
    const entry = this.table.get(`${author}/${slug}`);
    if (!entry) throw modelNotFound(`${author}/${slug}`);
    return { data: presentEndpoints(entry) };
  }
}
