/**
 * One streamed answer built from the chunks of one or more attempts (docs/architecture.md,
 * "Streams"): what reaches the client, so that an attempt cut mid-stream can be resumed by
 * another without repeating or losing anything, and two answers are never mixed.
 *
 * - Tool calls are held back until each is complete (its next sibling starts, or the choice's
 *   finish reason arrives) and then sent whole, in one delta: a call cut mid-way has sent nothing
 *   and the continuation generates it again.
 * - The text delivered so far (choice 0) is the prefill a continuation continues from.
 * - A continuation that begins by repeating the tail of that text (some models do) has the
 *   repeated part dropped: its first characters are held until they either match a tail of the
 *   prefill (at least {@link MIN_REPEAT_WORDS} words or {@link MIN_REPEAT_CHARS} characters,
 *   starting and ending at word boundaries) or cannot any more.
 * - A continuation's role deltas are dropped (the client has had its role); a first attempt's
 *   role-only delta is sent with the first delta that carries output.
 *
 * Pure (no I/O): the gateway feeds it each attempt's chunks and writes what it returns.
 */

type Json = Record<string, unknown>;
const isObj = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A repeated tail is dropped only when it has at least this many words ... */
export const MIN_REPEAT_WORDS = 2;
/** ... or this many characters (one long word). */
export const MIN_REPEAT_CHARS = 16;
/** How far back in the prefill a repeated tail may start (characters). */
const REPEAT_WINDOW_CHARS = 1024;

interface HeldCall {
  index: number;
  id?: unknown;
  type?: unknown;
  name: string;
  args: string;
  /** Other fields of the call's first delta, kept as sent. */
  extra: Json;
}

/** How an answer that failed after output can be saved, from what the client has. */
export type Recovery = 'continue' | 'restart' | 'impossible';

export type AttemptKind = 'first' | 'continuation';

export class AnswerSplicer {
  /** Text of choice 0 that reached the client (every attempt). */
  private delivered = '';
  /** Output a prefill cannot carry: whole tool calls, refusals, choices beyond the first. */
  private unsplicable = false;
  /** Tool calls in progress, by choice index, then tool index. */
  private held = new Map<number, Map<number, HeldCall>>();
  private pendingRole = new Map<number, unknown>();
  private continuing = false;
  /** A continuation's first content, until it is known whether it repeats the prefill's tail. */
  private lead: string | null = null;
  /** The word-boundary tails of the prefill the lead is compared with (longest first). */
  private tails: string[] = [];
  private lastChunk: Json | null = null;
  /** What the current attempt put in front of the client, and what of it was dropped. */
  private attemptOutput = false;
  private attemptDropped = '';

  /** The text of the answer delivered so far: a continuation's prefill. */
  get text(): string {
    return this.delivered;
  }

  /** Whether any output of the current attempt reached the client. */
  get attemptDelivered(): boolean {
    return this.attemptOutput;
  }

  /** The repeated tail dropped from the current attempt (a continuation's). */
  get dropped(): string {
    return this.attemptDropped;
  }

  /**
   * What can still save the answer: a continuation of the text delivered (`continue`), a fresh
   * answer when no text reached the client yet (only reasoning, or nothing: `restart`), or
   * nothing when the client has output a prefill cannot carry (`impossible`).
   */
  recovery(): Recovery {
    if (this.unsplicable) return 'impossible';
    return this.delivered === '' ? 'restart' : 'continue';
  }

  /** A new attempt starts; what an earlier one held back (an incomplete tool call) is gone. */
  beginAttempt(kind: AttemptKind): void {
    this.held.clear();
    this.pendingRole.clear();
    this.attemptOutput = false;
    this.attemptDropped = '';
    this.continuing = kind === 'continuation';
    this.lead = this.continuing && this.delivered !== '' ? '' : null;
    this.tails = this.lead === null ? [] : tailsOf(this.delivered);
  }

  /** One chunk of the current attempt; returns the chunks to send now (zero or one). */
  push(chunk: Json): Json[] {
    const choices = Array.isArray(chunk['choices']) ? chunk['choices'] : null;
    if (!choices || choices.length === 0) return [chunk];
    this.lastChunk = chunk;
    const out: Json[] = [];
    for (const c of choices) {
      if (!isObj(c)) continue;
      const shaped = this.choice(c);
      if (shaped) out.push(shaped);
    }
    return out.length > 0 ? [{ ...chunk, choices: out }] : [];
  }

  /** The current attempt ended normally: what it still held goes out. */
  end(): Json[] {
    const choices: Json[] = [];
    const indices = new Set([...this.held.keys(), ...(this.lead ? [0] : [])]);
    for (const index of [...indices].sort((a, b) => a - b)) {
      const delta: Json = {};
      if (index === 0 && this.lead) {
        const text = this.decide(true);
        if (text !== '') delta['content'] = text;
      }
      const calls = this.flush(index, Infinity);
      if (calls.length > 0) delta['tool_calls'] = calls;
      if (Object.keys(delta).length === 0) continue;
      this.note(index, delta);
      choices.push({ index, delta, finish_reason: null });
    }
    this.lead = null;
    return choices.length > 0 ? [{ ...(this.lastChunk ?? {}), choices }] : [];
  }

  private choice(c: Json): Json | null {
    const index = typeof c['index'] === 'number' ? c['index'] : 0;
    const finishing = c['finish_reason'] !== null && c['finish_reason'] !== undefined;
    const delta: Json = isObj(c['delta']) ? { ...c['delta'] } : {};
    const calls: Json[] = [];
    if (Array.isArray(delta['tool_calls'])) {
      for (const t of delta['tool_calls']) {
        if (!isObj(t)) continue;
        const ti = typeof t['index'] === 'number' ? t['index'] : 0;
        // A sibling starts: every call before it is complete.
        calls.push(...this.flush(index, ti));
        this.hold(index, ti, t);
      }
      delete delta['tool_calls'];
    }
    if (finishing) calls.push(...this.flush(index, Infinity));
    if (calls.length > 0) delta['tool_calls'] = calls;
    if (index === 0 && this.lead !== null && typeof delta['content'] === 'string') {
      this.lead += delta['content'];
      delta['content'] = this.undecided() && !finishing ? '' : this.decide(finishing);
    } else if (index === 0 && this.lead !== null && finishing) {
      delta['content'] = this.decide(true);
    }
    if (this.continuing) delete delta['role'];
    const output = hasOutput(delta);
    if (!output && !finishing && 'role' in delta) {
      this.pendingRole.set(index, delta['role']);
      delete delta['role'];
    } else if ((output || finishing) && this.pendingRole.has(index)) {
      // The role goes with the first delta sent (clients want it: the `openai` stream helper
      // refuses a choice without one).
      delta['role'] ??= this.pendingRole.get(index);
      this.pendingRole.delete(index);
    }
    if (!output && !finishing) return null;
    if (delta['content'] === '' && output) delete delta['content'];
    this.note(index, delta);
    return { ...c, delta };
  }

  /** Books what a delta puts in front of the client. */
  private note(index: number, delta: Json): void {
    if (!hasOutput(delta)) return;
    this.attemptOutput = true;
    if (index !== 0) this.unsplicable = true;
    if (index === 0 && typeof delta['content'] === 'string') this.delivered += delta['content'];
    if (Array.isArray(delta['tool_calls']) && delta['tool_calls'].length > 0)
      this.unsplicable = true;
    if (typeof delta['refusal'] === 'string' && delta['refusal'] !== '') this.unsplicable = true;
  }

  private hold(choice: number, ti: number, t: Json): void {
    let calls = this.held.get(choice);
    if (!calls) this.held.set(choice, (calls = new Map()));
    let h = calls.get(ti);
    if (!h) {
      const extra: Json = {};
      for (const [k, v] of Object.entries(t))
        if (!['index', 'id', 'type', 'function'].includes(k)) extra[k] = v;
      calls.set(ti, (h = { index: ti, name: '', args: '', extra }));
    }
    if (h.id === undefined && t['id'] !== undefined && t['id'] !== null) h.id = t['id'];
    if (h.type === undefined && t['type'] !== undefined && t['type'] !== null) h.type = t['type'];
    const f = isObj(t['function']) ? t['function'] : {};
    if (typeof f['name'] === 'string') h.name += f['name'];
    if (typeof f['arguments'] === 'string') h.args += f['arguments'];
  }

  /** The held calls of a choice with a tool index below `before`, whole, in order. */
  private flush(choice: number, before: number): Json[] {
    const calls = this.held.get(choice);
    if (!calls) return [];
    const out: Json[] = [];
    for (const ti of [...calls.keys()].sort((a, b) => a - b)) {
      if (ti >= before) break;
      const h = calls.get(ti)!;
      calls.delete(ti);
      out.push({
        ...h.extra,
        index: h.index,
        ...(h.id !== undefined ? { id: h.id } : {}),
        type: h.type ?? 'function',
        function: { name: h.name, arguments: h.args },
      });
    }
    return out;
  }

  /** The lead (whitespace aside) may still turn out to repeat a tail of the prefill. */
  private undecided(): boolean {
    const lead = (this.lead ?? '').trimStart();
    return lead === '' || this.tails.some((t) => t.startsWith(lead));
  }

  /** Ends the wait: the lead without the repeated tail it starts with, if any. */
  private decide(final: boolean): string {
    const lead = this.lead ?? '';
    this.lead = null;
    const stripped = lead.trimStart();
    const tail = this.tails.find(
      (t) =>
        stripped.startsWith(t) &&
        (stripped.length === t.length ? final : /[\s.,;:!?)\]}"'-]/.test(stripped[t.length]!)) &&
        repeatable(t),
    );
    if (!tail) return lead;
    const cut = lead.length - stripped.length + tail.length;
    this.attemptDropped = lead.slice(0, cut);
    return lead.slice(cut);
  }
}

function hasOutput(delta: Json): boolean {
  for (const [k, v] of Object.entries(delta)) {
    if (k === 'role' || v === null || v === undefined || v === '') continue;
    if (Array.isArray(v) && v.length === 0) continue;
    return true;
  }
  return false;
}

/** Enough of a tail to call its repetition a repeat rather than a coincidence. */
function repeatable(tail: string): boolean {
  return tail.trim().split(/\s+/).length >= MIN_REPEAT_WORDS || tail.length >= MIN_REPEAT_CHARS;
}

/** The prefill's tails that start at a word (after whitespace), longest first. */
function tailsOf(prefill: string): string[] {
  const from = Math.max(0, prefill.length - REPEAT_WINDOW_CHARS);
  const out: string[] = [];
  for (let i = from; i < prefill.length; i++) {
    const atWord = /\S/.test(prefill[i]!) && (i === 0 || /\s/.test(prefill[i - 1]!));
    if (atWord) out.push(prefill.slice(i));
  }
  return out;
}
