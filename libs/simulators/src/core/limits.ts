/**
 * What one request can make the simulator do, whatever its knobs, `n` and schemas ask for. The
 * simulator is the embedded default provider (`npm run up`), so a hostile prompt must get a
 * bounded answer or a clean 400, never take the process down.
 */

/** Bounds of the output of one request. */
export const OUTPUT_LIMITS = Object.freeze({
  /** Tokens of one choice (a model's output cap): a choice stops there with `finish_reason: "length"`. */
  tokensPerChoice: 65_536,
  /** Tokens over all `n` choices: each choice gets at most its even share. */
  tokensPerRequest: 262_144,
  /** Characters over all choices (a token echoes a whole prompt word, which may be long). */
  charsPerRequest: 4 * 1024 * 1024,
  /** Schema-driven JSON (response_format json_schema, tool arguments): items per array. */
  arrayItems: 64,
  /** ... characters a `minLength` can ask for. */
  stringLength: 4096,
  /** ... nesting (`$ref` recursion included). */
  schemaDepth: 12,
  /** ... values built in all (a wide schema that refers to itself grows exponentially). */
  schemaNodes: 4096,
  /** Function names the `tool_call` knob may list (OpenAI's limit on `tools`). */
  toolCalls: 128,
});

/** Knob values above these are refused with a 400 `sim_invalid_knob` instead of being tried. */
export const KNOB_MAXIMA: Readonly<Record<string, number>> = Object.freeze({
  /** Asked-for tokens; what is generated is also capped by {@link OUTPUT_LIMITS}. */
  tokens: 1_000_000_000,
  ttft_ms: 3_600_000,
  stall_ms: 3_600_000,
  stall_after: 1_000_000_000,
  malformed: 10_000,
  tps: 1_000_000,
  retry_after: 86_400,
  cut_after: 1_000_000_000,
  fault_times: 1_000_000,
  prefill_repeat: 1_000,
});

/** The output allowance of one choice: tokens and characters, spent as steps are planned. */
export class ChoiceBudget {
  constructor(
    public tokens: number,
    public chars: number,
  ) {}

  /** The budget of each of `n` choices, with at most `maxTokens` tokens (the request's limit). */
  static forChoice(n: number, maxTokens?: number): ChoiceBudget {
    const share = Math.max(1, Math.floor(OUTPUT_LIMITS.tokensPerRequest / Math.max(1, n)));
    return new ChoiceBudget(
      Math.min(maxTokens ?? Infinity, OUTPUT_LIMITS.tokensPerChoice, share),
      Math.floor(OUTPUT_LIMITS.charsPerRequest / Math.max(1, n)),
    );
  }

  /** Spends one token of `text`; false (nothing spent) when the budget cannot pay for it. */
  spend(text: string): boolean {
    if (this.tokens < 1 || text.length > this.chars) return false;
    this.tokens -= 1;
    this.chars -= text.length;
    return true;
  }
}
