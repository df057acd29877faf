/**
 * Deterministic "model output": words echoed from the prompt, JSON built from a schema, and the
 * splitting of both into tokens.
 *
 * Text answers: token i of choice k is the word `words[(i + k) % words.length]` (with a leading
 * space from the second token on), where `words` are the whitespace-separated words of the last
 * user message with its `[[sim ...]]` directives removed (or {@link FALLBACK_WORDS} when it has none).
 */
import { extractDirectives } from './knobs.js';
import { OUTPUT_LIMITS } from './limits.js';

export const FALLBACK_WORDS: readonly string[] = ['lorem', 'ipsum', 'dolor', 'sit', 'amet'];

/**
 * What the `text=prose` knob answers with (the demo that `npm run up` starts): a reply that reads
 * like text, one word a token, cycled when more tokens are asked for ({@link PROSE_WORDS}.length
 * tokens end on a full sentence).
 */
export const PROSE =
  "Hello! This answer comes from Turnpike's built-in simulator, which stands in for a real " +
  'model provider so that the whole platform runs on this machine without any provider keys. ' +
  'It streams a few words at a time, at about the pace of a hosted model, so you can watch the ' +
  'tokens arrive as they are generated. Your request still took the real path: the gateway ' +
  'checked your key and balance, sent it over Kafka to a connector, and will bill these tokens ' +
  'to your tenant. Add a real provider through the admin API whenever you are ready.';

export const PROSE_WORDS: readonly string[] = PROSE.split(' ');

/** The words the simulator echoes for a prompt (directives removed). */
export function promptWords(text: string): string[] {
  const words = extractDirectives(text)
    .stripped.split(/\s+/)
    .filter((w) => w.length > 0);
  return words.length > 0 ? words : [...FALLBACK_WORDS];
}

/** Cycles through the prompt words from a starting offset. */
export class WordCursor {
  private i: number;
  constructor(
    private readonly words: readonly string[],
    offset = 0,
  ) {
    this.i = offset;
  }
  next(): string {
    const w = this.words[this.i % this.words.length] ?? '';
    this.i++;
    return w;
  }
  take(n: number): string[] {
    return Array.from({ length: n }, () => this.next());
  }
}

/** Text tokens for choice `choiceIndex`, made as they are taken: `"w0", " w1", " w2", ...`. */
export function* textTokenStream(
  words: readonly string[],
  count: number,
  choiceIndex = 0,
): Generator<string, void, undefined> {
  const cursor = new WordCursor(words, choiceIndex);
  for (let i = 0; i < count; i++) {
    const w = cursor.next();
    yield i === 0 ? w : ` ${w}`;
  }
}

/**
 * The continuation of a prefill (a trailing assistant message the model must continue): the
 * echo carries on from the word after the prefill's last one (the prefill's word count is its
 * place in the sequence) up to `count` tokens in all, so prefill + continuation is what an
 * unprefilled request gets ({@link expectedContent}). `repeat` words of the prefill's tail come
 * first, as a model that repeats itself before it carries on.
 */
export function* continuationTokenStream(
  words: readonly string[],
  count: number,
  prefill: string,
  repeat = 0,
  choiceIndex = 0,
): Generator<string, void, undefined> {
  const said = prefill.split(/\s+/).filter((w) => w.length > 0).length;
  const from = Math.max(0, said - repeat);
  const cursor = new WordCursor(words, choiceIndex + from);
  for (let i = from; i < count; i++) {
    const w = cursor.next();
    yield i === 0 ? w : ` ${w}`;
  }
}

/** Text tokens for choice `choiceIndex`: `["w0", " w1", " w2", ...]`. */
export function textTokens(words: readonly string[], count: number, choiceIndex = 0): string[] {
  return [...textTokenStream(words, count, choiceIndex)];
}

/** The first `count` text tokens joined, cut before the token that would pass `maxChars`. */
export function boundedText(
  words: readonly string[],
  count: number,
  choiceIndex: number,
  maxChars: number,
): string {
  let out = '';
  for (const t of textTokenStream(words, count, choiceIndex)) {
    if (out.length + t.length > maxChars) break;
    out += t;
  }
  return out;
}

/**
 * The content the simulator answers a plain-text request with, given the text of the last user
 * message (directives included or not), the token count and the choice index.
 */
export function expectedContent(lastUserText: string, tokens: number, choiceIndex = 0): string {
  return textTokens(promptWords(lastUserText), tokens, choiceIndex).join('');
}

/** Splits JSON text into tokens at whitespace: `{"text":"a b"}` → `{"text":"a`, ` b"}`. */
export function* whitespaceTokens(text: string): Generator<string, void, undefined> {
  let any = false;
  for (const m of text.matchAll(/\s*\S+/g)) {
    any = true;
    yield m[0];
  }
  if (!any && text.length > 0) yield text;
}

/** Splits tool-call arguments into token-like fragments: `{"`, `city`, `":"`, `Paris`, `"}`. */
export function* argumentFragments(args: string): Generator<string, void, undefined> {
  for (const m of args.matchAll(/\s*[A-Za-z0-9_]+|[^A-Za-z0-9_\s]+|\s+/g)) yield m[0];
}

type JsonSchema = Record<string, unknown>;

const isObject = (v: unknown): v is JsonSchema =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

const FORMAT_SAMPLES: Record<string, string> = {
  'date-time': '2024-01-01T00:00:00Z',
  date: '2024-01-01',
  time: '00:00:00',
  email: 'sim@example.com',
  uri: 'https://example.com/sim',
  url: 'https://example.com/sim',
  uuid: '00000000-0000-4000-8000-000000000000',
};

/**
 * Builds a value that satisfies (the common subset of) a JSON schema. String leaves are filled
 * with prompt words: the first one gets `budget` words, later ones one word each.
 *
 * Bounded whatever the schema asks for ({@link OUTPUT_LIMITS}): arrays get at most `arrayItems`
 * items, strings at most `stringLength` characters for a `minLength`, nesting stops at
 * `schemaDepth` (`$ref` recursion included), at most `schemaNodes` values are built, and the
 * JSON text stays within about `maxChars` characters. Past a bound the value is the closest
 * one that fits (fewer items, a shorter string, `null` deeper down): valid JSON, as valid
 * against the schema as the bounds allow.
 */
export function instanceFromSchema(
  schema: unknown,
  words: WordCursor,
  budget: number,
  maxChars: number = OUTPUT_LIMITS.charsPerRequest,
): unknown {
  let remaining = budget;
  let chars = maxChars;
  let nodes = OUTPUT_LIMITS.schemaNodes;
  /** Pays for `n` characters of JSON text; false (nothing paid) when they do not fit. */
  const charge = (n: number): boolean => {
    if (n > chars) return false;
    chars -= n;
    return true;
  };
  const word = (): string | undefined => {
    const w = words.next();
    return charge(w.length + 1) ? w : undefined;
  };
  const take = (): string => {
    const n = Math.max(1, remaining);
    remaining = 0;
    const out: string[] = [];
    for (let i = 0; i < n; i++) {
      const w = word();
      if (w === undefined) break;
      out.push(w);
    }
    return out.join(' ');
  };
  /** A const/enum value from the schema, when its JSON text fits. */
  const literal = (v: unknown): unknown => {
    const size = typeof v === 'string' ? v.length + 2 : (JSON.stringify(v)?.length ?? 4);
    return charge(size) ? v : null;
  };

  const resolve = (s: JsonSchema, root: JsonSchema): JsonSchema => {
    const ref = s['$ref'];
    if (typeof ref !== 'string' || !ref.startsWith('#/')) return s;
    let target: unknown = root;
    for (const part of ref.slice(2).split('/'))
      target = isObject(target) ? target[part] : undefined;
    return isObject(target) ? target : {};
  };

  const build = (raw: unknown, root: JsonSchema, depth: number): unknown => {
    if (nodes <= 0) return null;
    nodes--;
    if (depth > OUTPUT_LIMITS.schemaDepth) return null;
    if (!isObject(raw)) return take();
    const s = resolve(raw, root);
    if ('const' in s) return literal(s['const']);
    if (Array.isArray(s['enum']) && s['enum'].length > 0) return literal(s['enum'][0]);
    for (const key of ['anyOf', 'oneOf', 'allOf']) {
      const branches = s[key];
      if (Array.isArray(branches) && branches.length > 0) {
        const pick = branches.find((b) => !(isObject(b) && b['type'] === 'null')) ?? branches[0];
        return build(pick, root, depth + 1);
      }
    }
    let type = s['type'];
    if (Array.isArray(type)) type = type.find((t) => t !== 'null') ?? 'null';
    if (type === undefined)
      type = isObject(s['properties']) ? 'object' : s['items'] ? 'array' : 'string';
    switch (type) {
      case 'object': {
        const out: Record<string, unknown> = {};
        const props = isObject(s['properties']) ? s['properties'] : {};
        for (const [k, v] of Object.entries(props)) {
          if (nodes <= 0 || !charge(k.length + 4)) break;
          out[k] = build(v, root, depth + 1);
        }
        return out;
      }
      case 'array': {
        const min = typeof s['minItems'] === 'number' ? s['minItems'] : 1;
        const max = typeof s['maxItems'] === 'number' ? s['maxItems'] : Math.max(min, 1);
        const count = Math.min(Math.max(min, 1), max, OUTPUT_LIMITS.arrayItems);
        const out: unknown[] = [];
        for (let i = 0; i < count && nodes > 0 && charge(1); i++)
          out.push(build(s['items'] ?? {}, root, depth + 1));
        return out;
      }
      case 'integer':
      case 'number': {
        const min = typeof s['minimum'] === 'number' ? s['minimum'] : undefined;
        const max = typeof s['maximum'] === 'number' ? s['maximum'] : undefined;
        let n = min ?? 1;
        if (max !== undefined && n > max) n = max;
        return type === 'integer' ? Math.ceil(n) : n;
      }
      case 'boolean':
        return true;
      case 'null':
        return null;
      default: {
        const format = typeof s['format'] === 'string' ? FORMAT_SAMPLES[s['format']] : undefined;
        if (format) return format;
        let str = take();
        const minLength = Math.min(
          typeof s['minLength'] === 'number' ? s['minLength'] : 0,
          OUTPUT_LIMITS.stringLength,
        );
        while (str.length < minLength) {
          const w = word();
          if (w === undefined) break;
          str += ` ${w}`;
        }
        const maxLength = typeof s['maxLength'] === 'number' ? s['maxLength'] : undefined;
        if (maxLength !== undefined) str = str.slice(0, Math.max(0, maxLength));
        return str;
      }
    }
  };

  return build(schema, isObject(schema) ? schema : {}, 0);
}

/** The text of a message content: a string, or the `text` of its `{type: 'text'}` parts. */
export function textOfContent(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((c) =>
      isObject(c) && c['type'] === 'text' && typeof c['text'] === 'string' ? c['text'] : '',
    )
    .join('');
}
