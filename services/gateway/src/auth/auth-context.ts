import { createParamDecorator, type ExecutionContext } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';

/** Who is calling: set by the API key guard. */
export interface AuthContext {
  tenantId: string;
  keyId: string;
}

export type AuthedRequest = FastifyRequest & { auth?: AuthContext };

export const Auth = createParamDecorator((_: unknown, ctx: ExecutionContext): AuthContext => {
  const req = ctx.switchToHttp().getRequest<AuthedRequest>();
  if (!req.auth) throw new Error('Auth used on a route without ApiKeyGuard');
  return req.auth;
});
