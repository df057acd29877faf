import { timingSafeEqual, createHash } from 'node:crypto';
import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { unauthorized } from '@turnpike/openai-api';
import { GatewayConfig } from '../gateway.config.js';

/** The operator admin API takes its own bearer token, never a tenant key. */
@Injectable()
export class AdminGuard implements CanActivate {
  private readonly expected: Buffer;

  constructor(config: GatewayConfig) {
    this.expected = createHash('sha256').update(config.adminToken).digest();
  }

  canActivate(ctx: ExecutionContext): boolean {
    const header = ctx.switchToHttp().getRequest<FastifyRequest>().headers.authorization;
    const token = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] : undefined;
    if (!token) throw unauthorized('This admin endpoint needs the admin token as a Bearer token.');
    const given = createHash('sha256').update(token).digest();
    if (!timingSafeEqual(given, this.expected)) throw unauthorized('Invalid admin token.');
    return true;
  }
}
