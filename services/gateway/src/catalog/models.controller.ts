import { Controller, Get, Param, Query, Req } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { invalidRequest, modelNotFound } from '@turnpike/openai-api';
import { apiBasePath } from '../http/public-url.js';
import { countModels, listModels, presentEndpoints, presentModel } from './models.presenter.js';
import { RoutingTableService } from './routing-table.service.js';

/**
 * The public catalog (unauthenticated, like OpenRouter's), in OpenRouter's shapes with OpenAI's
 * `object`/`owned_by` beside them, so both `@openrouter/sdk` and the `openai` clients read it.
 */
@Controller('v1')
export class ModelsController {
  constructor(private readonly table: RoutingTableService) {}

  /**
   * `GET /v1/models`: OpenRouter's `ModelsListResponse` (`data`, `links`, `total_count`), which
   * is also OpenAI's list (`object: "list"`). `offset`/`limit` page it (the whole list when both
   * are absent, as OpenRouter does); `supported_parameters`, `input_modalities`,
   * `output_modalities` (comma-separated, or `all`) and `q` filter it.
   */
  @Get('models')
  list(
    @Query() query: Record<string, unknown>,
    @Req() req: FastifyRequest,
  ): Record<string, unknown> {
    return listModels(this.table.all(), parseListQuery(query), apiBasePath(req));
  }

  /** OpenRouter's `GET /models/count`: how many models `GET /v1/models` lists with these filters. */
  @Get('models/count')
  count(@Query() query: Record<string, unknown>): { data: { count: number } } {
    return countModels(this.table.all(), parseListQuery(query));
  }

  /** OpenAI's `models.retrieve(id)` for an id without a slash: none exists in our catalog. */
  @Get('models/:id')
  oneBare(@Param('id') id: string): Record<string, unknown> {
    const entry = this.table.get(id);
    if (!entry) throw modelNotFound(id);
    return presentModel(entry);
  }

  /** OpenAI's `models.retrieve("author/slug")` (`%2F` is decoded before routing). */
  @Get('models/:author/:slug')
  one(
    @Param('author') author: string,
    @Param('slug') slug: string,
    @Req() req: FastifyRequest,
  ): Record<string, unknown> {
    const entry = this.table.get(`${author}/${slug}`);
    if (!entry) throw modelNotFound(`${author}/${slug}`);
    return presentModel(entry, apiBasePath(req));
  }

  /** OpenRouter's `GET /model/{author}/{slug}` (`models.get` in `@openrouter/sdk`): `{data}`. */
  @Get('model/:author/:slug')
  oneWrapped(
    @Param('author') author: string,
    @Param('slug') slug: string,
    @Req() req: FastifyRequest,
  ): { data: Record<string, unknown> } {
    const entry = this.table.get(`${author}/${slug}`);
    if (!entry) throw modelNotFound(`${author}/${slug}`);
    return { data: presentModel(entry, apiBasePath(req)) };
  }

  /** The model's endpoints with live uptime, latency and throughput (OpenRouter's shape). */
  @Get('models/:author/:slug/endpoints')
  endpoints(
    @Param('author') author: string,
    @Param('slug') slug: string,
  ): { data: Record<string, unknown> } {
    const entry = this.table.get(`${author}/${slug}`);
    if (!entry) throw modelNotFound(`${author}/${slug}`);
    return { data: presentEndpoints(entry) };
  }
}

export interface ModelListQuery {
  offset: number | null;
  limit: number | null;
  supportedParameters: string[];
  inputModalities: string[] | null;
  outputModalities: string[] | null;
  q: string | null;
}

/**
 * Readers of a query's parameters that answer a clean 400 naming the parameter (never a 500):
 * text, an integer in a range, a comma-separated list (`all`: no filter).
 */
export function queryReader(query: Record<string, unknown>) {
  const text = (name: string): string | null => {
    const v = query[name];
    if (v === undefined || v === '') return null;
    if (typeof v !== 'string' || v.length > 1000 || v.includes('\u0000'))
      throw invalidRequest(`Invalid query parameter '${name}'.`, name);
    return v;
  };
  const integer = (name: string, min: number, max: number): number | null => {
    const v = text(name);
    if (v === null) return null;
    if (!/^\d{1,10}$/.test(v) || Number(v) < min || Number(v) > max)
      throw invalidRequest(`'${name}' must be an integer from ${min} to ${max}.`, name);
    return Number(v);
  };
  const list = (name: string): string[] | null => {
    const v = text(name);
    if (v === null) return null;
    const items = v
      .split(',')
      .map((s) => s.trim())
      .filter((s) => s.length > 0);
    return items.includes('all') ? null : items;
  };
  return { text, integer, list };
}

/** Validates `GET /v1/models`' query: a clean 400 naming the parameter, never a 500. */
export function parseListQuery(query: Record<string, unknown>): ModelListQuery {
  const { text, integer, list } = queryReader(query);
  return {
    offset: integer('offset', 0, 1_000_000_000),
    limit: integer('limit', 1, 1000),
    supportedParameters: list('supported_parameters') ?? [],
    inputModalities: list('input_modalities'),
    outputModalities: list('output_modalities'),
    q: text('q')?.toLowerCase() ?? null,
  };
}
