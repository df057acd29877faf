type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** How one model's generation of a comparison ended. */
export interface CompareResult {
  index: number;
  model: string;
  generation_id: string | null;
  provider: string | null;
  status: 'success' | 'error';
  output: { content: string; reasoning: string | null };
  finish_reason: string | null;
  usage: Json | null;
  /** What the tenant was charged, in currency (OpenRouter's `usage.cost`) and micro-units. */
  cost: number | null;
  cost_micros: number | null;
  /** From sending the request to its first output, and to its end (ms, as the gateway saw it). */
  ttft_ms: number | null;
  latency_ms: number;
  error: {
    status: number;
    message: string;
    type: string | null;
    code: string | number | null;
  } | null;
}

const ms = (x: number) => Math.round(x * 10) / 10;

/**
 * One model's part of a comparison, folded from the chat completion stream the normal path
 * answered it with: the output text (and reasoning), the finish reason, the usage chunk with
 * its cost, the first-output and total times, or the error (an error status before the stream,
 * or an error chunk within it). Pure: the caller feeds it what arrived and when.
 */
export class CompareRun {
  private content = '';
  private reasoning = '';
  private finish: string | null = null;
  private usage: Json | null = null;
  private firstOutputAt: number | null = null;
  private error: CompareResult['error'] = null;
  private provider: string | null = null;
  generationId: string | null = null;

  constructor(
    readonly index: number,
    readonly model: string,
    private readonly startedAt: number,
  ) {}

  /** One chunk of the stream; true when it carried output. */
  chunk(c: Json, at: number): boolean {
    if (typeof c['provider'] === 'string') this.provider = c['provider'];
    if (isObj(c['usage'])) this.usage = c['usage'];
    if (isObj(c['error'])) {
      // OpenRouter's error chunk: `code` is the status, our code is `metadata.error_type`.
      const e = c['error'];
      const meta = isObj(e['metadata']) ? e['metadata'] : {};
      this.error = {
        status: typeof e['code'] === 'number' ? e['code'] : 502,
        message: typeof e['message'] === 'string' ? e['message'] : 'The generation failed.',
        type: typeof e['type'] === 'string' ? e['type'] : null,
        code: typeof meta['error_type'] === 'string' ? meta['error_type'] : null,
      };
    }
    let output = false;
    for (const choice of Array.isArray(c['choices']) ? (c['choices'] as unknown[]) : []) {
      if (!isObj(choice)) continue;
      if (typeof choice['finish_reason'] === 'string') this.finish = choice['finish_reason'];
      const delta = isObj(choice['delta']) ? choice['delta'] : null;
      if (!delta) continue;
      if (typeof delta['content'] === 'string' && delta['content'] !== '') {
        this.content += delta['content'];
        output = true;
      }
      if (typeof delta['reasoning'] === 'string' && delta['reasoning'] !== '') {
        this.reasoning += delta['reasoning'];
        output = true;
      }
      if (Array.isArray(delta['tool_calls'])) output = true;
    }
    if (output) this.firstOutputAt ??= at;
    return output;
  }

  /** The request was answered with an error status instead of a stream. */
  failed(status: number, body: unknown): void {
    const e = isObj(body) && isObj(body['error']) ? body['error'] : {};
    this.error = {
      status,
      message:
        typeof e['message'] === 'string' ? e['message'] : `The generation failed (HTTP ${status}).`,
      type: typeof e['type'] === 'string' ? e['type'] : null,
      code: (e['code'] as string | number | null | undefined) ?? null,
    };
  }

  /** The connection failed, or the stream ended without `[DONE]`. */
  broken(message: string): void {
    this.error ??= { status: 502, message, type: 'server_error', code: 'compare_stream_broken' };
  }

  result(endedAt: number): CompareResult {
    const cost = typeof this.usage?.['cost'] === 'number' ? this.usage['cost'] : null;
    return {
      index: this.index,
      model: this.model,
      generation_id: this.generationId,
      provider: this.provider,
      status: this.error ? 'error' : 'success',
      output: { content: this.content, reasoning: this.reasoning === '' ? null : this.reasoning },
      finish_reason: this.finish,
      usage: this.usage,
      cost,
      cost_micros: cost === null ? null : Math.round(cost * 1_000_000),
      ttft_ms: this.firstOutputAt === null ? null : ms(this.firstOutputAt - this.startedAt),
      latency_ms: ms(endedAt - this.startedAt),
      error: this.error,
    };
  }
}
