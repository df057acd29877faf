/**
 * The token clock. Emits the planned steps of all choices on a timer schedule:
 * first token at `ttftMs`, step i at `ttftMs + i * 1000 / tokensPerSecond` (+ `stallMs` from step
 * `stallAfterTokens` on). One timer per request, none while nothing is due; steps that are due
 * together are emitted in one tick and written in one flush.
 */
import { performance } from 'node:perf_hooks';
import type { ChoicePlan, Step } from './plan.js';
import type { Knobs } from './types.js';

export interface GenerationSink {
  /** First-token time, before step 0 (role chunks). */
  begin(): void;
  step(plan: ChoicePlan, step: Step): void;
  /** A choice emitted its last step. */
  finishChoice(plan: ChoicePlan): void;
  /** Every step was emitted. */
  end(): void;
  /** The `cut` knob fired: flush what is pending, then drop the connection. */
  cut(): void;
  /** The `stream_error` knob fired: send the protocol's in-stream error and end the response. */
  streamError?(): void;
  /**
   * The `malformed` knob: queue one garbage event in the protocol's framing (streams only; a
   * buffered answer has no events to garble).
   */
  malformed?(): void;
  /** Writes what this tick produced; false = wait for {@link onDrain} before going on. */
  flush(): boolean;
  onDrain(resume: () => void): void;
}

export const DEFAULT_STALL_AFTER = 1;

export class Generation {
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;
  /** -1 = the first-token moment (begin), then step indices. */
  private next = -1;
  private t0 = 0;
  private readonly totalSteps: number;
  private readonly intervalMs: number;
  /** Garbage events (the `malformed` knob) due after each step index (-1: the first token). */
  private readonly garbageAfter = new Map<number, number>();

  constructor(
    private readonly plans: readonly ChoicePlan[],
    private readonly knobs: Knobs,
    private readonly sink: GenerationSink,
    private readonly onTokens: (count: number) => void = () => {},
  ) {
    this.totalSteps = Math.max(0, ...plans.map((p) => p.steps.length));
    this.intervalMs = knobs.tokensPerSecond > 0 ? 1000 / knobs.tokensPerSecond : 0;
    // Spread evenly: garbage event k of n after step floor(k * steps / (n + 1)).
    const n = knobs.malformedEvents ?? 0;
    for (let k = 1; k <= n; k++) {
      const at = this.totalSteps === 0 ? -1 : Math.floor((k * this.totalSteps) / (n + 1));
      this.garbageAfter.set(at, (this.garbageAfter.get(at) ?? 0) + 1);
    }
  }

  /** The garbage events due after step `i` (-1: the first token). */
  private garbage(i: number): void {
    for (let k = this.garbageAfter.get(i) ?? 0; k > 0; k--) this.sink.malformed?.();
  }

  start(): void {
    this.t0 = performance.now();
    this.run();
  }

  /** Stops generating (client went away, server closing). Idempotent. */
  cancel(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  get running(): boolean {
    return !this.stopped;
  }

  private dueAt(step: number): number {
    const first = this.t0 + this.knobs.ttftMs;
    if (step < 0) return first;
    const { stallMs, stallAfterTokens = DEFAULT_STALL_AFTER } = this.knobs;
    const stall = stallMs && step >= stallAfterTokens ? stallMs : 0;
    return first + step * this.intervalMs + stall;
  }

  private readonly run = (): void => {
    this.timer = undefined;
    while (!this.stopped) {
      const wait = this.dueAt(this.next) - performance.now();
      if (wait >= 1) {
        this.timer = setTimeout(this.run, wait);
        return;
      }
      this.tick();
      if (this.stopped) return;
      if (!this.sink.flush()) {
        this.sink.onDrain(this.run);
        return;
      }
    }
  };

  private stop(): void {
    this.stopped = true;
  }

  private tick(): void {
    if (this.next === -1) {
      if (this.knobs.cut === 'before_first' || this.knobs.cutAfterTokens === 0) return this.doCut();
      this.sink.begin();
      this.garbage(-1);
      for (const p of this.plans) if (p.steps.length === 0) this.sink.finishChoice(p);
      this.next = 0;
      if (this.totalSteps === 0) {
        if (this.knobs.cut === 'after_first') return this.doCut();
        return this.finish();
      }
      return;
    }
    const i = this.next++;
    let emitted = 0;
    for (const p of this.plans) {
      const step = p.steps[i];
      if (!step) continue;
      this.sink.step(p, step);
      emitted++;
    }
    this.garbage(i);
    this.onTokens(emitted);
    if (i === 0 && this.knobs.cut === 'after_first') return this.doCut();
    if (this.knobs.cutAfterTokens !== undefined && i + 1 >= this.knobs.cutAfterTokens)
      return this.doCut();
    if (i === 0 && this.knobs.streamError === 'after_first') {
      this.stop();
      if (this.sink.streamError) this.sink.streamError();
      else this.sink.cut();
      return;
    }
    for (const p of this.plans) if (i === p.steps.length - 1) this.sink.finishChoice(p);
    if (this.next >= this.totalSteps) this.finish();
  }

  private doCut(): void {
    this.stop();
    this.sink.cut();
  }

  private finish(): void {
    this.stop();
    this.sink.end();
  }
}
