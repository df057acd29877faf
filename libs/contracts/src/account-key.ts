import { z } from 'zod';

/**
 * `accounts.keys.v1` (compacted, key = keyHash): the state of one API key. Only the SHA-256 hash
 * of the secret ever leaves the gateway that minted it. A null value (tombstone) revokes it.
 */
export const AccountKeyV1 = z.object({
  v: z.literal(1),
  keyId: z.string().min(1),
  /** Hex SHA-256 of the full secret key. */
  keyHash: z.string().regex(/^[0-9a-f]{64}$/),
  tenantId: z.string().min(1),
  name: z.string(),
  disabled: z.boolean(),
  updatedAt: z.number().int().positive(),
});
export type AccountKeyV1 = z.infer<typeof AccountKeyV1>;
