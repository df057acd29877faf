import type { z } from 'zod';
import { invalidRequest } from '@turnpike/openai-api';

/**
 * Parses an admin body (or params) against its schema: a 400 naming the first field in error and
 * why, never a value from the body (an account's body holds a secret).
 */
export function parseAdminBody<T>(schema: z.ZodType<T>, body: unknown): T {
  const r = schema.safeParse(body ?? {});
  if (!r.success) {
    const issue = r.error.issues[0];
    const param = issue?.path.join('.') || null;
    throw invalidRequest(
      `${param ? `Invalid '${param}': ` : ''}${issue?.message ?? 'Invalid body.'}`,
      param,
    );
  }
  return r.data;
}
