import { Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { CompareService } from './compare.service.js';

@Controller('v1/compare')
@UseGuards(ApiKeyGuard)
export class CompareController {
  constructor(private readonly compare: CompareService) {}

  /** One prompt to up to 8 models side by side (see CompareService). */
  @Post()
  @HttpCode(200)
  async create(@Req() req: FastifyRequest, @Res() reply: FastifyReply): Promise<void> {
    await this.compare.handle(req, reply);
  }
}
