import { Controller, HttpCode, Post, Req, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Auth, type AuthContext } from '../auth/auth-context.js';
import { ApiKeyGuard } from '../auth/api-key.guard.js';
import { CompletionsService } from './completions.service.js';

@Controller('v1/chat/completions')
@UseGuards(ApiKeyGuard)
export class CompletionsController {
  constructor(private readonly completions: CompletionsService) {}

  @Post()
  @HttpCode(200)
  async create(
    @Req() req: FastifyRequest,
    @Res() reply: FastifyReply,
    @Auth() auth: AuthContext,
  ): Promise<void> {
    await this.completions.handle(req, reply, auth);
  }
}
