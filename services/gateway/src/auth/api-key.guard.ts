import { Injectable, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { incorrectApiKeyMessage, unauthorized } from '@turnpike/openai-api';
import { KeyCacheService } from '../accounts/key-cache.service.js';
import { hashKey } from '../accounts/key-secret.js';
import type { AuthedRequest } from './auth-context.js';

/** Bearer API keys, checked against the in-memory key cache (no database call). */
@Injectable()
export class ApiKeyGuard implements CanActivate {
  constructor(private readonly keys: KeyCacheService) {}

  canActivate(ctx: ExecutionContext): boolean {
    const req = ctx.switchToHttp().getRequest<AuthedRequest>();
    const header = req.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) throw unauthorized();
    const key = this.keys.lookup(hashKey(match[1]));
    if (!key) throw unauthorized(incorrectApiKeyMessage(match[1]));
    req.auth = { tenantId: key.tenantId, keyId: key.keyId };
    return true;
  }
}
