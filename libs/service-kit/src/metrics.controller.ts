import { Controller, Get, Module, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { metrics } from './metrics.js';

/** `GET /metrics`: the process's metrics for Prometheus (text exposition format). */
@Controller('metrics')
export class MetricsController {
  constructor() {
    metrics.collectDefaults();
  }

  @Get()
  async scrape(@Res() reply: FastifyReply): Promise<void> {
    const body = await metrics.text();
    void reply.status(200).header('content-type', metrics.contentType).send(body);
  }
}

/** `GET /metrics` alone (what `CoreModule` imports, and what a test can boot on its own). */
@Module({ controllers: [MetricsController] })
export class MetricsModule {}
