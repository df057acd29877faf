/**
 * Billing periods, in UTC: the day, the week (Monday to Sunday, as OpenRouter's `usage_weekly`)
 * and the month that contain an instant, each named by its first day (`YYYY-MM-DD`).
 */
export interface Periods {
  day: string;
  week: string;
  month: string;
}

const iso = (d: Date) => d.toISOString().slice(0, 10);

export function periodsOf(at: Date | number | string): Periods {
  const d = new Date(at);
  if (Number.isNaN(d.getTime())) throw new RangeError(`not a time: ${String(at)}`);
  const day = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()));
  const sinceMonday = (day.getUTCDay() + 6) % 7;
  const week = new Date(day.getTime() - sinceMonday * 86_400_000);
  const month = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1));
  return { day: iso(day), week: iso(week), month: iso(month) };
}

/** The start of the period a key limit resets on (null: the limit never resets). */
export function limitPeriodStart(
  reset: 'daily' | 'weekly' | 'monthly' | null,
  at: Date | number,
): string | null {
  if (reset === null) return null;
  const p = periodsOf(at);
  return reset === 'daily' ? p.day : reset === 'weekly' ? p.week : p.month;
}
