import type { Micros } from '@turnpike/contracts';

/**
 * An amount of currency written as a decimal (`"12.5"`, `"-0.000001"`, or a JSON number such
 * as 12.5) to integer micro-units, exactly: no binary floating point. More than six decimals,
 * exponents and non-numbers are refused.
 */
export function parseMoneyMicros(value: string | number): Micros {
  const text = typeof value === 'number' ? String(value) : value.trim();
  const m = /^(-)?(\d{1,12})(?:\.(\d{1,6}))?$/.exec(text);
  if (!m) throw new RangeError(`not an amount with at most 6 decimals: ${text}`);
  const micros = Number(m[2]) * 1_000_000 + Number((m[3] ?? '').padEnd(6, '0'));
  // 12 digits of currency are more than a safe integer of micro-units holds: refuse, never round.
  if (!Number.isSafeInteger(micros)) throw new RangeError(`amount too large: ${text}`);
  return m[1] && micros !== 0 ? -micros : micros;
}

/**
 * Micro-units as a JSON number of currency units, for responses that follow OpenRouter's shape
 * (`total_credits`, `usage`, `cost`). Presentation only: nothing is computed from it.
 */
export function microsToCurrency(micros: Micros): number {
  return micros / 1_000_000;
}
