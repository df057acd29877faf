/**
 * Deterministic "model output": words echoed from the prompt, JSON built from a schema, and the
 * splitting of both into tokens.
 *
 * Text answers: token i of choice k is the word `words[(i + k) % words.length]` (with a leading
 * space from the second token on), where `words` are the whitespace-separated words of the last
 * user message with its `[[sim ...]]` directives removed (or {@link FALLBACK_WORDS} when it has none).
 */
import { extractDirectives } from './knobs.js';

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

/** Text tokens for choice `choiceIndex`: `["w0", " w1", " w2", ...]`. */
export function textTokens(words: readonly string[], count: number, choiceIndex = 0): string[] {
  const cursor = new WordCursor(words, choiceIndex);
  return cursor.take(count).map((w, i) => (i === 0 ? w : ` ${w}`));
}

/**
 * The content the simulator answers a plain-text request with, given the text of the last user
 * message (directives included or not), the token count and the choice index.
 */
export function expectedContent(lastUserText: string, tokens: number, choiceIndex = 0): string {
  return textTokens(promptWords(lastUserText), tokens, choiceIndex).join('');
}

/** Splits JSON text into tokens at whitespace: `{"text":"a b"}` → `{"text":"a`, ` b"}`. */
export function splitOnWhitespace(text: string): string[] {
  return text.match(/\s*\S+/g) ?? (text.length > 0 ? [text] : []);
}

/** Splits tool-call arguments into token-like fragments: `{"`, `city`, `":"`, `Paris`, `"}`. */
export function splitArgumentFragments(args: string): string[] {
  return args.match(/\s*[A-Za-z0-9_]+|[^A-Za-z0-9_\s]+|\s+/g) ?? [];
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
 */
export function instanceFromSchema(schema: unknown, words: WordCursor, budget: number): unknown {
  let remaining = budget;
  const take = (): string => {
    const n = Math.max(1, remaining);
    remaining = 0;
    return words.take(n).join(' ');
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
    if (!isObject(raw)) return take();
    if (depth > 12) return null;
    const s = resolve(raw, root);
    if ('const' in s) return s['const'];
    if (Array.isArray(s['enum']) && s['enum'].length > 0) return s['enum'][0];
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
        for (const [k, v] of Object.entries(props)) out[k] = build(v, root, depth + 1);
        return out;
      }
      case 'array': {
        const min = typeof s['minItems'] === 'number' ? s['minItems'] : 1;
        const max = typeof s['maxItems'] === 'number' ? s['maxItems'] : Math.max(min, 1);
        const count = Math.min(Math.max(min, 1), max);
        return Array.from({ length: count }, () => build(s['items'] ?? {}, root, depth + 1));
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
        const minLength = typeof s['minLength'] === 'number' ? s['minLength'] : 0;
        const maxLength = typeof s['maxLength'] === 'number' ? s['maxLength'] : undefined;
        while (str.length < minLength) str += ` ${words.next()}`;
        if (maxLength !== undefined) str = str.slice(0, maxLength);
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
