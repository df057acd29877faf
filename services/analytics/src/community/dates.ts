/** UTC calendar arithmetic of the datasets: days, ISO weeks (from Monday), months. */

export const DAY_MS = 86_400_000;

/** `YYYY-MM-DD` of an instant (UTC). */
export const isoDay = (t: Date | number): string => new Date(t).toISOString().slice(0, 10);

/** Midnight UTC of a `YYYY-MM-DD` date. */
export const dayStart = (date: string): Date => new Date(`${date}T00:00:00.000Z`);

export const addDays = (date: string, days: number): string =>
  isoDay(dayStart(date).getTime() + days * DAY_MS);

/** The Monday of the ISO week holding `date`. */
export function weekStart(date: string): string {
  const d = dayStart(date);
  const sinceMonday = (d.getUTCDay() + 6) % 7;
  return addDays(date, -sinceMonday);
}

/** The first day of the month holding `date`. */
export const monthStart = (date: string): string => `${date.slice(0, 7)}-01`;

/** The first day of the month `n` months after the one starting on `first`. */
export function addMonths(first: string, n: number): string {
  const d = dayStart(first);
  return isoDay(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + n, 1));
}

/** Whole days from `a` to `b` (both `YYYY-MM-DD`). */
export const daysBetween = (a: string, b: string): number =>
  Math.round((dayStart(b).getTime() - dayStart(a).getTime()) / DAY_MS);
