import { Controller, Get, HttpCode, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { Readiness } from './readiness.js';

@Controller('health')
export class HealthController {
  constructor(private readonly readiness: Readiness) {}

  @Get('live')
  @HttpCode(200)
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  ready(@Res() reply: FastifyReply): void {
    const r = this.readiness.report();
    void reply.status(r.ready ? 200 : 503).send({ status: r.ready ? 'ready' : 'not_ready', ...r });
  }
}
