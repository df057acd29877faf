/**
 * How many unparsable events a stream may carry before its attempt fails. Upstreams do send the
 * odd broken event (a truncated `data:` line from a proxy, a stray debug print) amid a good
 * answer; failing the whole answer for one of them throws away what the tenant is reading. A
 * stream that keeps sending them is broken, though, and its answer is not to be trusted:
 *
 * - more than {@link MALFORMED_IN_A_ROW_LIMIT} malformed events in a row, or
 * - more than {@link MALFORMED_SHARE_LIMIT} of the events, once at least
 *   {@link MALFORMED_SHARE_MIN_EVENTS} were read,
 *
 * fail the attempt with `upstream_bad_stream` (retryable). Below that, each one is skipped and
 * counted (the attempt record's `malformedEvents`, the connector's
 * `turnpike_stream_malformed_events_total`). A corrupt binary frame (AWS event stream) is not an
 * event that can be skipped: the framing is lost, and the decoder fails at once.
 */
export const MALFORMED_IN_A_ROW_LIMIT = 3;
export const MALFORMED_SHARE_LIMIT = 0.1;
export const MALFORMED_SHARE_MIN_EVENTS = 20;

/**
 * The tolerance of one stream, judged exactly in the order of its events: fed each malformed
 * event's position and, after each read, the number of events read so far.
 */
export class MalformedTolerance {
  private count = 0;
  private run = 0;
  private last = 0;
  /** The share was judged at event {@link MALFORMED_SHARE_MIN_EVENTS}. */
  private judgedAtMin = false;

  /** Malformed events so far. */
  get malformed(): number {
    return this.count;
  }

  /** The `event`-th event of the stream was malformed: true when the stream is past the limit. */
  malformedAt(event: number): boolean {
    // The share at the 20th event, if this one comes after it: every malformed event counted so
    // far came before (a later one would have judged it already).
    if (event > MALFORMED_SHARE_MIN_EVENTS && this.pastShareAtMin()) return true;
    this.count++;
    this.run = event === this.last + 1 ? this.run + 1 : 1;
    this.last = event;
    if (this.run > MALFORMED_IN_A_ROW_LIMIT) return true;
    if (event < MALFORMED_SHARE_MIN_EVENTS) return false;
    this.judgedAtMin = true;
    return this.count / event > MALFORMED_SHARE_LIMIT;
  }

  /**
   * `events` were read so far: true when the stream is past the limit. Between malformed events
   * the share only falls, so besides them it is judged once, at the 20th event.
   */
  readUpTo(events: number): boolean {
    return events >= MALFORMED_SHARE_MIN_EVENTS && this.pastShareAtMin();
  }

  private pastShareAtMin(): boolean {
    if (this.judgedAtMin) return false;
    this.judgedAtMin = true;
    return this.count / MALFORMED_SHARE_MIN_EVENTS > MALFORMED_SHARE_LIMIT;
  }
}
