import type { BucketGranularity } from '@turnpike/contracts';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 3_600_000;
export const DAY_MS = 86_400_000;

export const BUCKET_MS: Record<BucketGranularity, number> = {
  minute: MINUTE_MS,
  hour: HOUR_MS,
  day: DAY_MS,
};

/** The start of the bucket of `granularity` holding the instant `ms` (UTC). */
export const floorTo = (ms: number, unit: number): number => Math.floor(ms / unit) * unit;
export const ceilTo = (ms: number, unit: number): number => Math.ceil(ms / unit) * unit;

export function bucketStart(ms: number, g: BucketGranularity): number {
  return floorTo(ms, BUCKET_MS[g]);
}
