/**
 * A streaming check of JSON nesting depth, cheap enough to run on every request body before it
 * is parsed: one pass over the bytes as they arrive (string contents are skipped with native
 * `indexOf`), no parse and no allocation. Deeply nested input (10,000 nested arrays in an unknown
 * field, say) parses fine but then breaks recursive code later on: it is refused at the edge.
 */

/** The deepest nesting of arrays and objects accepted in a request body. */
export const MAX_JSON_DEPTH = 64;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACE = 0x7d;
const CLOSE_BRACKET = 0x5d;

/** Feed it the body's bytes in order; `push` returns false once the depth went over the limit. */
export class JsonDepthMeter {
  private depth = 0;
  private inString = false;
  /** The previous chunk ended on a backslash inside a string. */
  private escaped = false;
  /** The deepest nesting seen so far. */
  maxSeen = 0;

  constructor(readonly maxDepth: number = MAX_JSON_DEPTH) {}

  get exceeded(): boolean {
    return this.maxSeen > this.maxDepth;
  }

  push(chunk: Uint8Array): boolean {
    let i = 0;
    const n = chunk.length;
    if (this.escaped && n > 0) {
      this.escaped = false;
      i = 1;
    }
    while (i < n) {
      if (this.inString) {
        const q = chunk.indexOf(QUOTE, i);
        const b = chunk.indexOf(BACKSLASH, i);
        if (b !== -1 && (q === -1 || b < q)) {
          if (b + 1 >= n) {
            this.escaped = true;
            return !this.exceeded;
          }
          i = b + 2;
          continue;
        }
        if (q === -1) return !this.exceeded;
        this.inString = false;
        i = q + 1;
        continue;
      }
      const c = chunk[i]!;
      if (c === QUOTE) this.inString = true;
      else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
        this.depth++;
        if (this.depth > this.maxSeen) {
          this.maxSeen = this.depth;
          if (this.maxSeen > this.maxDepth) return false;
        }
      } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
        if (this.depth > 0) this.depth--;
      }
      i++;
    }
    return !this.exceeded;
  }
}

/** Whether a whole JSON text nests deeper than `maxDepth`. */
export function jsonDepthExceeds(text: string | Uint8Array, maxDepth = MAX_JSON_DEPTH): boolean {
  const meter = new JsonDepthMeter(maxDepth);
  return !meter.push(typeof text === 'string' ? Buffer.from(text) : text);
}
