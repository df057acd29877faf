import { Body, Controller, Get, HttpCode, Param, Post, Res, UseGuards } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { z } from 'zod';
import { ApiError, invalidRequest, notFound } from '@turnpike/openai-api';
import { AdminGuard } from '../auth/admin.guard.js';
import { AccountsService, type CreatedKey } from './accounts.service.js';

const CreateTenant = z.object({
  name: z.string().min(1).max(200),
  id: z
    .string()
    .regex(/^[a-zA-Z0-9_-]{3,64}$/)
    .optional(),
});
const CreateKey = z.object({ name: z.string().min(1).max(200).default('default') });

function parse<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    throw invalidRequest(issue?.message ?? 'Invalid body.', issue?.path.join('.') || null);
  }
  return r.data;
}

/** Operator API: tenants and keys. Authenticated by the admin token only. */
@Controller('admin')
@UseGuards(AdminGuard)
export class AdminController {
  constructor(private readonly accounts: AccountsService) {}

  @Post('tenants')
  @HttpCode(201)
  async createTenant(
    @Body() body: unknown,
    @Res({ passthrough: true }) reply: FastifyReply,
  ): Promise<{ id: string; name: string; created_at: string }> {
    const { name, id } = parse(CreateTenant, body);
    const { tenant: t, created } = await this.accounts.createTenant(name, id);
    // Creating a tenant that exists is idempotent when it is the same one (a retried seed: 200),
    // and a conflict when the id names another (409): never a 201 for something not created.
    if (!created) {
      if (t.name !== name)
        throw new ApiError({
          status: 409,
          type: 'invalid_request_error',
          message: `Tenant '${t.id}' already exists with another name.`,
          code: 'tenant_exists',
          param: 'id',
        });
      void reply.status(200);
    }
    return { id: t.id, name: t.name, created_at: t.createdAt.toISOString() };
  }

  @Get('tenants/:id')
  async getTenant(@Param('id') id: string): Promise<{ id: string; name: string }> {
    const t = await this.accounts.getTenant(id);
    if (!t) throw notFound(`Tenant '${id}'`);
    return { id: t.id, name: t.name };
  }

  @Post('tenants/:id/keys')
  @HttpCode(201)
  async createKey(@Param('id') tenantId: string, @Body() body: unknown): Promise<CreatedKey> {
    const { name } = parse(CreateKey, body);
    return this.accounts.createKey(tenantId, name);
  }

  @Get('tenants/:id/keys')
  async listKeys(@Param('id') tenantId: string): Promise<{ data: unknown[] }> {
    const keys = await this.accounts.listKeys(tenantId);
    return {
      data: keys.map((k) => ({
        id: k.id,
        name: k.name,
        prefix: k.keyPrefix,
        disabled: k.disabled,
        created_at: k.createdAt.toISOString(),
      })),
    };
  }

  @Post('keys/:id/disable')
  @HttpCode(200)
  async disableKey(@Param('id') keyId: string): Promise<{ id: string; disabled: boolean }> {
    const k = await this.accounts.disableKey(keyId);
    return { id: k.id, disabled: k.disabled };
  }
}
