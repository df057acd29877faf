/**
 * Knob parsing: simulator defaults, `x-sim-<key>` request headers, `[[sim key=value ...]]`
 * directives in the last user message, and the `/__sim/config` body.
 *
 * Precedence (lowest → highest): simulator defaults, headers, directives.
 */
import { KNOB_MAXIMA, OUTPUT_LIMITS } from './limits.js';
import type { CutMode, ErrorBodyMode, Knobs, ReasoningField, TextMode } from './types.js';

export const BASE_KNOBS: Readonly<Knobs> = Object.freeze({
  ttftMs: 0,
  tokensPerSecond: 0,
  completionTokens: 16,
});

/** A malformed directive, header or config value; answered with a 400. */
export class KnobError extends Error {
  override readonly name = 'KnobError';
}

type RawValue = string | true;

interface KnobSpec {
  knob: keyof Knobs;
  parse(raw: RawValue, key: string): Partial<Knobs>;
}

const NONE = new Set(['none', 'null', 'off', '']);

function text(raw: RawValue, key: string): string {
  if (raw === true) throw new KnobError(`sim knob '${key}' needs a value`);
  return raw.trim();
}

/** A non-negative number up to the knob's maximum ({@link KNOB_MAXIMA}): absurd values are refused. */
function nonNegative(raw: RawValue, key: string, integer: boolean): number {
  const s = text(raw, key);
  const n = Number(s);
  if (s === '' || !Number.isFinite(n) || n < 0 || (integer && !Number.isInteger(n))) {
    throw new KnobError(
      `sim knob '${key}' must be a non-negative ${integer ? 'integer' : 'number'}, got '${s}'`,
    );
  }
  const max = KNOB_MAXIMA[key];
  if (max !== undefined && n > max)
    throw new KnobError(`sim knob '${key}' must be at most ${max}, got '${s}'`);
  return n;
}

function bool(raw: RawValue, key: string): boolean {
  if (raw === true) return true;
  const s = raw.trim().toLowerCase();
  if (['true', '1', 'yes', 'on'].includes(s)) return true;
  if (['false', '0', 'no', 'off'].includes(s)) return false;
  throw new KnobError(`sim knob '${key}' must be a boolean, got '${raw}'`);
}

/** A numeric knob; optional ones are cleared by `none`. */
const numeric = (knob: keyof Knobs, integer: boolean, optional = false): KnobSpec => ({
  knob,
  parse(raw, key) {
    if (optional && raw !== true && NONE.has(raw.trim().toLowerCase()))
      return { [knob]: undefined };
    return { [knob]: nonNegative(raw, key, integer) };
  },
});

/** Directive / header keys (snake_case) → knobs. */
const SPECS: Record<string, KnobSpec> = {
  ttft_ms: numeric('ttftMs', true),
  tps: numeric('tokensPerSecond', false),
  tokens: numeric('completionTokens', true),
  retry_after: numeric('retryAfterSec', false, true),
  stall_ms: numeric('stallMs', true, true),
  stall_after: numeric('stallAfterTokens', true, true),
  malformed: numeric('malformedEvents', true, true),
  cut_after: numeric('cutAfterTokens', true, true),
  fault_times: numeric('faultTimes', true, true),
  prefill_repeat: numeric('prefillRepeat', true, true),
  status: {
    knob: 'status',
    parse(raw, key) {
      const s = text(raw, key).toLowerCase();
      if (NONE.has(s) || s === '0' || s === '200') return { status: undefined };
      const n = Number(s);
      if (!Number.isInteger(n) || n < 400 || n > 599) {
        throw new KnobError(`sim knob '${key}' must be an HTTP error status (400-599), got '${s}'`);
      }
      return { status: n };
    },
  },
  body: {
    knob: 'errorBody',
    parse(raw, key) {
      const s = text(raw, key).toLowerCase();
      if (NONE.has(s) || s === 'json') return { errorBody: undefined };
      if (s !== 'html' && s !== 'text')
        throw new KnobError(`sim knob '${key}' must be json | html | text, got '${s}'`);
      return { errorBody: s satisfies ErrorBodyMode };
    },
  },
  message: {
    knob: 'errorMessage',
    parse(raw, key) {
      const s = text(raw, key);
      return { errorMessage: NONE.has(s.toLowerCase()) ? undefined : s };
    },
  },
  cut: {
    knob: 'cut',
    parse(raw, key) {
      const s = text(raw, key).toLowerCase();
      if (NONE.has(s)) return { cut: undefined };
      if (s !== 'before_first' && s !== 'after_first') {
        throw new KnobError(
          `sim knob '${key}' must be before_first | after_first | none, got '${s}'`,
        );
      }
      return { cut: s satisfies CutMode };
    },
  },
  reset: { knob: 'reset', parse: (raw, key) => ({ reset: bool(raw, key) }) },
  text: {
    knob: 'text',
    parse(raw, key) {
      const s = text(raw, key).toLowerCase();
      if (NONE.has(s) || s === 'echo') return { text: undefined };
      if (s !== 'prose') throw new KnobError(`sim knob '${key}' must be echo | prose, got '${s}'`);
      return { text: s satisfies TextMode };
    },
  },
  usage: {
    knob: 'usage',
    parse(raw, key) {
      const s = text(raw, key).toLowerCase();
      if (s === 'none') return { usage: 'none' };
      if (s === 'include' || s === 'default') return { usage: undefined };
      throw new KnobError(`sim knob '${key}' must be none | include, got '${s}'`);
    },
  },
  cached_tokens: numeric('cachedTokens', true, true),
  cache_write_tokens: numeric('cacheWriteTokens', true, true),
  stream_error: {
    knob: 'streamError',
    parse(raw, key) {
      const s = text(raw, key).toLowerCase();
      if (NONE.has(s)) return { streamError: undefined };
      if (s !== 'after_first')
        throw new KnobError(`sim knob '${key}' must be after_first | none, got '${s}'`);
      return { streamError: 'after_first' };
    },
  },
  reasoning_field: {
    knob: 'reasoningField',
    parse(raw, key) {
      const s = text(raw, key).toLowerCase();
      if (NONE.has(s) || s === 'hidden') return { reasoningField: undefined };
      if (s !== 'reasoning_content' && s !== 'reasoning')
        throw new KnobError(
          `sim knob '${key}' must be reasoning_content | reasoning | hidden, got '${s}'`,
        );
      return { reasoningField: s satisfies ReasoningField };
    },
  },
  tool_call: {
    knob: 'toolCall',
    parse(raw, key) {
      const s = text(raw, key);
      if (NONE.has(s.toLowerCase())) return { toolCall: undefined };
      const names = s.split(',').map((n) => n.trim());
      if (names.length > OUTPUT_LIMITS.toolCalls)
        throw new KnobError(
          `sim knob '${key}' may name at most ${OUTPUT_LIMITS.toolCalls} functions, got ${names.length}`,
        );
      if (names.some((n) => !/^[A-Za-z0-9_.-]{1,64}$/.test(n))) {
        throw new KnobError(
          `sim knob '${key}' must be a function name or a comma-separated list, got '${s}'`,
        );
      }
      return { toolCall: names.length === 1 ? names[0] : names };
    },
  },
};

/** Knob name (camelCase) → directive key (snake_case). */
const KEY_OF_KNOB: Record<keyof Knobs, string> = Object.fromEntries(
  Object.entries(SPECS).map(([key, spec]) => [spec.knob, key]),
) as Record<keyof Knobs, string>;

export const DIRECTIVE_KEYS: readonly string[] = Object.keys(SPECS);

/** Parses one `key=value` (value `true` for a bare key). Accepts snake_case or camelCase keys. */
export function parseKnob(key: string, raw: RawValue): Partial<Knobs> {
  const snake = SPECS[key] ? key : KEY_OF_KNOB[key as keyof Knobs];
  const spec = snake === undefined ? undefined : SPECS[snake];
  if (!spec || snake === undefined) {
    throw new KnobError(`unknown sim knob '${key}' (known: ${DIRECTIVE_KEYS.join(', ')})`);
  }
  return spec.parse(raw, snake);
}

/** Later overrides win; a key present with value undefined clears an optional knob. */
export function mergeKnobs(
  base: Readonly<Knobs>,
  ...overrides: Array<Partial<Knobs> | undefined>
): Knobs {
  const out: Knobs = { ...base };
  for (const o of overrides) {
    if (!o) continue;
    for (const [k, v] of Object.entries(o)) {
      if (v === undefined) delete (out as unknown as Record<string, unknown>)[k];
      else (out as unknown as Record<string, unknown>)[k] = v;
    }
  }
  return out;
}

const DIRECTIVE_RE = /\[\[sim(?=[\s\]])([^\]]*)\]\]/g;
const PAIR_RE = /\s*([A-Za-z_][A-Za-z0-9_]*)(?:=("[^"]*"|'[^']*'|[^\s"'\]]+))?\s*/y;

/** Parses the inside of one directive, e.g. ` ttft_ms=50 cut=after_first`. */
export function parseDirectiveBody(body: string): Partial<Knobs> {
  const out: Partial<Knobs> = {};
  PAIR_RE.lastIndex = 0;
  let pos = 0;
  while (pos < body.length) {
    PAIR_RE.lastIndex = pos;
    const m = PAIR_RE.exec(body);
    if (!m || m[0].length === 0) {
      if (body.slice(pos).trim() === '') break;
      throw new KnobError(`malformed [[sim ...]] directive near '${body.slice(pos).trim()}'`);
    }
    pos = PAIR_RE.lastIndex;
    const key = m[1] ?? '';
    const value = m[2];
    const raw: RawValue = value === undefined ? true : value.replace(/^(["'])(.*)\1$/, '$2');
    Object.assign(out, parseKnob(key, raw));
  }
  return out;
}

export interface DirectiveResult {
  knobs: Partial<Knobs>;
  /** The text without its directives (whitespace around them collapsed). */
  stripped: string;
  found: boolean;
}

/** Finds every `[[sim ...]]` in `text`; later directives override earlier ones. */
export function extractDirectives(text: string): DirectiveResult {
  let knobs: Partial<Knobs> = {};
  let found = false;
  const stripped = text.replace(DIRECTIVE_RE, (_all, body: string) => {
    found = true;
    knobs = { ...knobs, ...parseDirectiveBody(body) };
    return ' ';
  });
  return { knobs, stripped: found ? stripped.replace(/\s+/g, ' ').trim() : text, found };
}

/** Knobs from `x-sim-<key>` headers (`x-sim-ttft-ms` and `x-sim-ttft_ms` both work). */
export function knobsFromHeaders(
  headers: Record<string, string | string[] | undefined>,
): Partial<Knobs> {
  const out: Partial<Knobs> = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (!lower.startsWith('x-sim-') || value === undefined) continue;
    const key = lower.slice('x-sim-'.length).replace(/-/g, '_');
    const raw = Array.isArray(value) ? value.join(',') : value;
    Object.assign(out, parseKnob(key, raw === '' ? true : raw));
  }
  return out;
}

/**
 * Knobs from a JSON object (`/__sim/config`, CLI): camelCase knob names or snake_case keys,
 * values as JSON numbers/booleans/strings; `null` clears an optional knob.
 */
export function knobsFromObject(obj: unknown): Partial<Knobs> {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) {
    throw new KnobError('sim config must be a JSON object of knobs');
  }
  const out: Partial<Knobs> = {};
  for (const [key, value] of Object.entries(obj)) {
    let raw: RawValue;
    if (value === null || value === undefined) raw = 'none';
    else if (value === true) raw = true;
    else if (Array.isArray(value)) raw = value.map(String).join(',');
    else if (typeof value === 'object') throw new KnobError(`sim knob '${key}' must be a scalar`);
    else raw = String(value);
    Object.assign(out, parseKnob(key, raw));
  }
  return out;
}

/** Names of the functions the `toolCall` knob asks for. */
export function toolCallNames(knobs: Knobs): string[] {
  const t = knobs.toolCall;
  if (t === undefined) return [];
  return Array.isArray(t) ? t : [t];
}

/** The knobs that make a request fail, which `fault_times` limits to the first requests. */
const FAULT_KNOBS = [
  'status',
  'reset',
  'cut',
  'cutAfterTokens',
  'stallMs',
  'streamError',
] as const satisfies ReadonlyArray<keyof Knobs>;

/** The knobs without their faults: how a request past its `fault_times` is answered. */
export function withoutFaults(knobs: Knobs): Knobs {
  const out = { ...knobs };
  for (const k of FAULT_KNOBS) delete out[k];
  return out;
}
