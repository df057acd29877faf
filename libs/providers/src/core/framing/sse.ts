/**
 * Incremental parser of the `text/event-stream` grammar (WHATWG HTML, "server-sent events"):
 * lines end in CRLF, LF or CR; `data:` lines of one event are joined with LF; an empty line
 * dispatches the event; lines starting with `:` are comments (keep-alives) and are ignored;
 * a single space after the colon is dropped. Lines naming no SSE field are ignored too, unless
 * the caller asks to see them (`onOtherLine`): some upstreams write a bare JSON error into an
 * event stream (Google's Generative Language API does, line by line).
 */
export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

export class SseParser {
  private buffer = '';
  private data: string[] = [];
  private event = '';
  private id: string | undefined;
  private sawCr = false;
  private readonly decoder = new TextDecoder();
  /** Events completed so far by the current `push`. */
  private completed = 0;

  constructor(
    private readonly opts: {
      /**
       * Receives each non-empty line that is neither a comment nor an SSE field, with the number
       * of events the current `push` completed before it (to keep the arrival order).
       */
      onOtherLine?: (line: string, eventsBefore: number) => void;
    } = {},
  ) {}

  /** Feeds bytes; returns the events completed by them. */
  push(chunk: Uint8Array | string): SseEvent[] {
    let text = typeof chunk === 'string' ? chunk : this.decoder.decode(chunk, { stream: true });
    if (this.sawCr && text.startsWith('\n')) text = text.slice(1);
    this.sawCr = false;
    this.buffer += text;
    const events: SseEvent[] = [];
    let start = 0;
    for (let i = 0; i < this.buffer.length; i++) {
      const c = this.buffer.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.buffer.slice(start, i);
      if (c === 13) {
        if (i + 1 < this.buffer.length) {
          if (this.buffer.charCodeAt(i + 1) === 10) i++;
        } else {
          this.sawCr = true;
        }
      }
      start = i + 1;
      this.completed = events.length;
      const ev = this.line(line);
      if (ev) events.push(ev);
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }

  /** The text of an unterminated last line (a body may end without a line break). */
  get partialLine(): string {
    return this.buffer;
  }

  /** True when bytes of an unfinished event are pending (a stream cut mid-event). */
  get hasPartial(): boolean {
    return this.buffer.length > 0 || this.data.length > 0;
  }

  private line(line: string): SseEvent | null {
    if (line === '') {
      if (this.data.length === 0) {
        this.event = '';
        return null;
      }
      const ev: SseEvent = { event: this.event || 'message', data: this.data.join('\n') };
      if (this.id !== undefined) ev.id = this.id;
      this.data = [];
      this.event = '';
      return ev;
    }
    if (line.startsWith(':')) return null;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') this.data.push(value);
    else if (field === 'event') this.event = value;
    else if (field === 'id') this.id = value;
    else if (field !== 'retry') this.opts.onOtherLine?.(line, this.completed);
    return null;
  }
}

/** One server-sent event read as JSON, the `[DONE]` end marker, or data that is not JSON. */
export type SseJsonEvent =
  | { type: 'json'; event: string; json: Record<string, unknown> }
  | { type: 'done' }
  | { type: 'malformed' };

/**
 * The events completed by `bytes`, their data parsed as JSON objects: what every JSON-over-SSE
 * decoder reads (OpenAI's and Mistral's end with `data: [DONE]`; Cohere's event names ride along).
 */
export function sseJson(parser: SseParser, bytes: Uint8Array): SseJsonEvent[] {
  return parser.push(bytes).map((ev): SseJsonEvent => {
    const data = ev.data.trim();
    if (data === '[DONE]') return { type: 'done' };
    try {
      const json = JSON.parse(data) as unknown;
      if (typeof json === 'object' && json !== null && !Array.isArray(json))
        return { type: 'json', event: ev.event, json: json as Record<string, unknown> };
    } catch {
      // not JSON
    }
    return { type: 'malformed' };
  });
}
