/**
 * What a failed database statement says about retrying it.
 *
 * Postgres reports every error with a SQLSTATE (`pg`'s DatabaseError has it as `code`, and
 * TypeORM's QueryFailedError copies it). Errors without one (a refused or lost connection, a
 * pool timeout) are never about the data: the same statement may succeed later.
 */

/**
 * SQLSTATE classes and codes that follow from the values a statement writes, so the same
 * statement with the same values fails again, whenever and however often it is retried:
 *
 * - `22` data exception: a value out of range, a NUL (`\u0000`) in `jsonb` or `text`, a bad
 *   date, an overflow in arithmetic on the values;
 * - `23` integrity constraint violation: a CHECK, NOT NULL, foreign or unique key the values
 *   break (our ledger triggers raise `23514` check_violation);
 * - `54` program limit exceeded: a value too large for an index row or a `jsonb` value, too
 *   deep for the parser;
 * - `P0001` raise_exception: a PL/pgSQL trigger that refuses the row without naming a code.
 *
 * Everything else is NOT a property of the values, and so not deterministic for a record:
 * `08` connection, `40` serialization failure and deadlock (40001, 40P01), `53` insufficient
 * resources (disk full, out of memory, too many connections), `55` lock not available, `57`
 * operator intervention (admin shutdown 57P01, cannot connect now 57P03, statement timeout
 * 57014), `58` system error (I/O), `XX` internal error, and `42` (syntax error, undefined
 * table or column, insufficient privilege), `25`, `0A`: the schema, the code or the
 * permissions are wrong, which would fail EVERY statement, so no single record is to blame.
 */
export const DETERMINISTIC_SQLSTATE_CLASSES: readonly string[] = ['22', '23', '54'];
export const DETERMINISTIC_SQLSTATES: readonly string[] = ['P0001'];

/** The SQLSTATE of a Postgres error (directly, or inside TypeORM's QueryFailedError), or null. */
export function sqlState(e: unknown): string | null {
  for (const x of [e, (e as { driverError?: unknown } | null)?.driverError]) {
    const code = (x as { code?: unknown } | null | undefined)?.code;
    // Node's system errors have codes too (ECONNREFUSED, EPIPE): a SQLSTATE comes with a severity.
    const severity = (x as { severity?: unknown } | null | undefined)?.severity;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && typeof severity === 'string')
      return code;
  }
  return null;
}

/** Whether retrying the same statement with the same values can never succeed (see above). */
export function isDeterministicDbError(e: unknown): boolean {
  const s = sqlState(e);
  if (s === null) return false;
  return (
    DETERMINISTIC_SQLSTATES.includes(s) || DETERMINISTIC_SQLSTATE_CLASSES.includes(s.slice(0, 2))
  );
}

/** A database error as operators read it: Postgres' message and detail, bounded. */
export function dbErrorText(e: unknown): string {
  const detail = (e as { detail?: unknown } | null)?.detail;
  const text = `${e instanceof Error ? e.message : String(e)}${typeof detail === 'string' && detail ? ` (${detail})` : ''}`;
  return text.length > 2_000 ? `${text.slice(0, 2_000)}…` : text;
}
