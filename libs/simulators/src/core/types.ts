/** Public types of the upstream simulators (every protocol). */

export type CutMode = 'before_first' | 'after_first';

/** How many send times a record keeps ({@link SimRequestRecord.tokenTimes}). */
export const MAX_TOKEN_TIMES = 4096;

/** Behaviour knobs. Defaults come from the simulator; each request may override them. */
export interface Knobs {
  /** Delay before the first token (ms). */
  ttftMs: number;
  /** Pace of the tokens after the first one; 0 = as fast as possible. */
  tokensPerSecond: number;
  /** How many tokens to generate per choice (clipped by max_tokens / max_completion_tokens). */
  completionTokens: number;
  /** Answer with this HTTP error status (and OpenAI's matching error body) instead. */
  status?: number;
  /** Retry-After header (seconds) sent with 429 / 503 responses. */
  retryAfterSec?: number;
  /**
   * The body of a `status` error: OpenAI's JSON (default), a proxy's `html` error page (which,
   * like Apache's, names the server's address), or a proxy's plain `text`.
   */
  errorBody?: ErrorBodyMode;
  /** The `message` of a `status` error's JSON body, instead of OpenAI's. */
  errorMessage?: string;
  /** Send 200 + headers, then destroy the socket before / right after the first content token. */
  cut?: CutMode;
  /** Send 200 + headers, then destroy the socket right after this many tokens (no `[DONE]`). */
  cutAfterTokens?: number;
  /** Destroy the connection without sending any response. */
  reset?: boolean;
  /** Pause the stream for this long (ms) ... */
  stallMs?: number;
  /** ... after this many tokens (default 1). */
  stallAfterTokens?: number;
  /**
   * Streams only: this many garbage events (an unparsable event in the protocol's own framing:
   * a `data:` line whose JSON is cut in half, an event-stream frame whose payload is) spread
   * evenly among the stream's events, after the first token.
   */
  malformedEvents?: number;
  /**
   * The faults (`status`, `reset`, `cut`, `cut_after`, `stall_ms`, `stream_error`) hit only the
   * first N requests this simulator receives with the same last user message; later ones are
   * answered normally (a transient fault: a retry of the same request succeeds).
   */
  faultTimes?: number;
  /**
   * A continuation of a prefill starts by repeating the prefill's last N words (as some models
   * do) before it carries on.
   */
  prefillRepeat?: number;
  /** Function name(s) to call instead of answering with text; several names = parallel tool calls. */
  toolCall?: string | string[];
  /** What a text answer says: the prompt's words echoed (default), or `prose` that reads like a reply (the demo). */
  text?: TextMode;
  /** `none`: a silent upstream, sending no `usage` (no usage chunk, no `usage` in a completion). */
  usage?: 'none';
  /** Report this many prompt tokens as read from the provider's prompt cache. */
  cachedTokens?: number;
  /** Report this many prompt tokens as written to the provider's prompt cache. */
  cacheWriteTokens?: number;
  /**
   * `after_first`: after the first token, the stream carries the protocol's in-stream error
   * event (OpenAI `data: {"error":...}`, Anthropic `event: error`, ...) and ends.
   */
  streamError?: 'after_first';
  /**
   * Where an OpenAI-compatible server returns the thinking it was asked for:
   * `reasoning_content` (DeepSeek, vLLM, Fireworks, xAI), `reasoning` (OpenRouter, Groq,
   * Ollama). Unset: hidden, as OpenAI's own models do (counted in usage only).
   */
  reasoningField?: ReasoningField;
}

export type ReasoningField = 'reasoning_content' | 'reasoning';

/** What the simulator understood of a chat request, whatever its wire (for tests). */
export interface SimRequestSummary {
  /** The system prompt, as the protocol carries it. */
  system: string;
  /** Text of every message, in order. */
  messages: string[];
  imageCount: number;
  tools: string[];
  stop: string[];
  maxTokens?: number;
  reasoning: boolean;
  prefill?: string;
  responseFormat: string;
  /** The one tool the request forces (a named `tool_choice`), if any. */
  forcedTool?: string;
}

export type TextMode = 'echo' | 'prose';

export type ErrorBodyMode = 'html' | 'text';

export interface SimModel {
  id: string;
  contextLength?: number;
}

export interface SimulatorOptions {
  /** 0 (default) = pick a free port. */
  port?: number;
  host?: '127.0.0.1' | (string & {});
  /**
   * When set, requests must carry this credential: `Authorization: Bearer <apiKey>` (OpenAI), or
   * for AWS protocols the secret access key the SigV4 signature is verified with.
   */
  apiKey?: string;
  /** AWS protocols: the access key id of `apiKey` (default: the protocol's fixed one). */
  accessKeyId?: string;
  models?: SimModel[];
  defaults?: Partial<Knobs>;
  /** Identifies this simulator (health endpoint, `x-sim-name` response header). */
  name?: string;
  /** The most request records kept for `GET /__sim/requests` (default 10,000; oldest go first). */
  maxRecords?: number;
}

export type SimOutcome = 'completed' | 'aborted' | 'error' | 'cut' | 'reset' | 'in_progress';

export interface SimRequestRecord {
  /** Same value as the `x-request-id` response header. */
  id: string;
  /** Epoch ms. */
  receivedAt: number;
  model: string | null;
  stream: boolean;
  messagesCount: number;
  /** Lower-cased request headers, without the credential headers (`authorization`, `x-goog-api-key`, ...). */
  headers: Record<string, string>;
  /**
   * SHA-256 (hex) of the credential the request carried (the protocol's API key header), or
   * null: which key a client used, without the key.
   */
  credentialSha256: string | null;
  /** The parsed JSON body (undefined when it was not valid JSON). */
  body: unknown;
  /** The effective knobs (defaults + headers + directive). */
  knobs: Knobs;
  /** The request as the simulator understood it (set once it parsed). */
  parsed?: SimRequestSummary;
  outcome: SimOutcome;
  /** HTTP status sent, null when none was sent (reset, or aborted before headers). */
  status: number | null;
  /** Tokens generated so far over all choices (content tokens or tool-argument fragments). */
  tokensSent: number;
  /** Epoch ms at which the first token was produced. */
  firstTokenAt?: number;
  /**
   * When each step's tokens were written (epoch ms, sub-millisecond precision), one entry per
   * step that produced tokens, the first {@link MAX_TOKEN_TIMES} only: what a test compares the
   * arrival times of the chunks with.
   */
  tokenTimes: number[];
  /** Epoch ms. */
  endedAt?: number;
}

export interface Simulator {
  /** The base URL an SDK of the protocol takes (`http://127.0.0.1:<port>/v1` for OpenAI). */
  url: string;
  /** `http://127.0.0.1:<port>` */
  origin: string;
  port: number;
  name: string;
  /** Stops listening and destroys all open sockets. */
  close(): Promise<void>;
  /** Snapshot of the chat requests received so far. */
  requests(): SimRequestRecord[];
  /** Forget the records and restore the defaults given at start. */
  reset(): void;
  /** Merge into the current defaults (a key set to undefined clears an optional knob). */
  setDefaults(k: Partial<Knobs>): void;
  /** The API keys accepted from now on (`reset` restores the one given at start). */
  setApiKeys(keys: readonly string[]): void;
  /** Current default knobs. */
  defaults(): Knobs;
  /** Resolves with the first record (present or future) matching `predicate`, with its state at that moment. */
  waitForRequest(
    predicate: (r: SimRequestRecord) => boolean,
    opts?: { timeoutMs?: number },
  ): Promise<SimRequestRecord>;
}

/** The OpenAI-wire simulator (the first protocol; kept as a name). */
export type OpenAISimulator = Simulator;
