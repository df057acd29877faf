import { isObj, num, str, type Json } from './json.js';

/**
 * The chat request in a protocol-neutral form: what every native provider's request map reads
 * instead of parsing OpenAI's message shapes itself. Built once per attempt from the validated
 * OpenAI-shaped body (`readChatRequest`).
 */

export interface TextPart {
  type: 'text';
  text: string;
  /** Anthropic-style `cache_control` the client put on the part (OpenRouter passes it through). */
  cacheControl?: Json;
}

export interface ImagePart {
  type: 'image';
  /** A remote image (`https://...`). */
  url?: string;
  /** Base64 data of an inline image (`data:` URL), with its media type. */
  data?: string;
  mediaType?: string;
  detail?: string;
  cacheControl?: Json;
}

export interface FilePart {
  type: 'file';
  data?: string;
  url?: string;
  mediaType?: string;
  filename?: string;
}

export type ContentPart = TextPart | ImagePart | FilePart;

export interface ToolCallPart {
  id: string;
  name: string;
  /** JSON text of the arguments, as the model produced it. */
  arguments: string;
}

/** A reasoning block of an earlier assistant turn (OpenRouter's `reasoning_details`). */
export interface ReasoningBlock {
  type: 'text' | 'encrypted' | 'summary';
  text?: string;
  signature?: string;
  /** Opaque, provider-encrypted reasoning (`reasoning.encrypted` / redacted thinking). */
  data?: string;
  format?: string;
  /**
   * What the block belongs to, when the provider ties it to one part of the answer (Gemini's
   * thought signature of a function call carries that call's tool-call id).
   */
  id?: string;
}

export type Turn =
  | { role: 'user'; parts: ContentPart[]; name?: string }
  | {
      role: 'assistant';
      parts: ContentPart[];
      toolCalls: ToolCallPart[];
      reasoning: ReasoningBlock[];
      /** OpenAI's `refusal` of an earlier answer, kept as text. */
      refusal?: string;
    }
  | { role: 'tool'; toolCallId: string; parts: ContentPart[]; name?: string };

export interface ToolSpec {
  name: string;
  description?: string;
  /** JSON Schema of the arguments (an empty object schema when the client gave none). */
  parameters: Json;
  strict?: boolean;
  cacheControl?: Json;
}

export type ToolChoice = 'auto' | 'none' | 'required' | { name: string };

export type ResponseFormat =
  | { type: 'text' }
  | { type: 'json_object' }
  | { type: 'json_schema'; name: string; schema: Json; strict: boolean; description?: string };

export type ReasoningEffort = 'minimal' | 'low' | 'medium' | 'high';

export interface ReasoningRequest {
  /** Whether the model should think at all (false: `effort: "none"` or `enabled: false`). */
  enabled: boolean;
  effort?: ReasoningEffort;
  /** A token budget for thinking (OpenRouter's `reasoning.max_tokens`). */
  maxTokens?: number;
  /** Think, but do not return the reasoning to the client. */
  exclude: boolean;
}

export interface ChatRequestModel {
  /** `system` and `developer` messages, in order. */
  system: TextPart[];
  turns: Turn[];
  tools: ToolSpec[];
  toolChoice?: ToolChoice;
  parallelToolCalls?: boolean;
  responseFormat?: ResponseFormat;
  reasoning?: ReasoningRequest;
  stop: string[];
  /** `max_completion_tokens`, else `max_tokens`. */
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  topK?: number;
  seed?: number;
  presencePenalty?: number;
  frequencyPenalty?: number;
  n?: number;
  user?: string;
}

/** `data:image/png;base64,AAAA` → its media type and data. */
export function parseDataUrl(url: string): { mediaType: string; data: string } | null {
  const m = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s.exec(url);
  if (!m) return null;
  return { mediaType: m[1] ?? 'application/octet-stream', data: m[2] ?? '' };
}

function cacheOf(p: Json): { cacheControl?: Json } {
  return isObj(p['cache_control']) ? { cacheControl: p['cache_control'] } : {};
}

/** The content of a message (a string or an array of parts) as parts. */
export function readContent(content: unknown): ContentPart[] {
  if (typeof content === 'string') return content === '' ? [] : [{ type: 'text', text: content }];
  if (!Array.isArray(content)) return [];
  const parts: ContentPart[] = [];
  for (const p of content) {
    if (!isObj(p)) continue;
    const type = p['type'];
    if ((type === 'text' || type === 'input_text') && typeof p['text'] === 'string') {
      parts.push({ type: 'text', text: p['text'], ...cacheOf(p) });
    } else if (type === 'image_url' && isObj(p['image_url'])) {
      const url = str(p['image_url']['url']) ?? '';
      const detail = str(p['image_url']['detail']);
      const inline = parseDataUrl(url);
      parts.push({
        type: 'image',
        ...(inline ? { data: inline.data, mediaType: inline.mediaType } : { url }),
        ...(detail ? { detail } : {}),
        ...cacheOf(p),
      });
    } else if (type === 'file' && isObj(p['file'])) {
      const f = p['file'];
      const inline = parseDataUrl(str(f['file_data']) ?? '');
      const filename = str(f['filename']);
      parts.push({
        type: 'file',
        ...(inline ? { data: inline.data, mediaType: inline.mediaType } : {}),
        ...(typeof f['file_url'] === 'string' ? { url: f['file_url'] } : {}),
        ...(filename ? { filename } : {}),
      });
    }
  }
  return parts;
}

function readReasoning(m: Json): ReasoningBlock[] {
  const out: ReasoningBlock[] = [];
  if (Array.isArray(m['reasoning_details'])) {
    for (const d of m['reasoning_details']) {
      if (!isObj(d)) continue;
      const signature = str(d['signature']) ?? undefined;
      const format = str(d['format']);
      const id = str(d['id']);
      const tags = { ...(format ? { format } : {}), ...(id ? { id } : {}) };
      if (d['type'] === 'reasoning.encrypted' && typeof d['data'] === 'string') {
        out.push({ type: 'encrypted', data: d['data'], ...tags });
      } else if (d['type'] === 'reasoning.summary' && typeof d['summary'] === 'string') {
        out.push({ type: 'summary', text: d['summary'], ...tags });
      } else if (typeof d['text'] === 'string') {
        out.push({ type: 'text', text: d['text'], ...(signature ? { signature } : {}), ...tags });
      }
    }
  } else if (typeof m['reasoning'] === 'string' && m['reasoning'] !== '') {
    out.push({ type: 'text', text: m['reasoning'] });
  }
  return out;
}

function readToolCalls(m: Json): ToolCallPart[] {
  const calls: ToolCallPart[] = [];
  if (Array.isArray(m['tool_calls'])) {
    for (const t of m['tool_calls']) {
      if (!isObj(t) || !isObj(t['function'])) continue;
      calls.push({
        id: str(t['id']) ?? `call_${calls.length}`,
        name: str(t['function']['name']) ?? '',
        arguments: str(t['function']['arguments']) ?? '{}',
      });
    }
  } else if (isObj(m['function_call'])) {
    const f = m['function_call'];
    calls.push({
      id: 'call_0',
      name: str(f['name']) ?? '',
      arguments: str(f['arguments']) ?? '{}',
    });
  }
  return calls;
}

function readTools(body: Json): ToolSpec[] {
  const tools: ToolSpec[] = [];
  const list = Array.isArray(body['tools']) ? body['tools'] : [];
  for (const t of list) {
    if (!isObj(t) || t['type'] !== 'function' || !isObj(t['function'])) continue;
    const f = t['function'];
    const name = str(f['name']);
    if (!name) continue;
    const description = str(f['description']);
    tools.push({
      name,
      ...(description ? { description } : {}),
      parameters: isObj(f['parameters']) ? f['parameters'] : { type: 'object', properties: {} },
      ...(typeof f['strict'] === 'boolean' ? { strict: f['strict'] } : {}),
      ...cacheOf(t),
    });
  }
  // Legacy `functions`.
  if (tools.length === 0 && Array.isArray(body['functions'])) {
    for (const f of body['functions']) {
      if (!isObj(f) || typeof f['name'] !== 'string') continue;
      const description = str(f['description']);
      tools.push({
        name: f['name'],
        ...(description ? { description } : {}),
        parameters: isObj(f['parameters']) ? f['parameters'] : { type: 'object', properties: {} },
      });
    }
  }
  return tools;
}

function readToolChoice(body: Json): ToolChoice | undefined {
  const c = body['tool_choice'] ?? body['function_call'];
  if (c === 'auto' || c === 'none' || c === 'required') return c;
  if (isObj(c)) {
    const f = isObj(c['function']) ? c['function'] : c;
    if (typeof f['name'] === 'string') return { name: f['name'] };
  }
  return undefined;
}

function readResponseFormat(body: Json): ResponseFormat | undefined {
  const rf = body['response_format'];
  if (!isObj(rf)) return undefined;
  if (rf['type'] === 'json_object') return { type: 'json_object' };
  if (rf['type'] === 'json_schema' && isObj(rf['json_schema'])) {
    const js = rf['json_schema'];
    const description = str(js['description']);
    return {
      type: 'json_schema',
      name: str(js['name']) ?? 'response',
      schema: isObj(js['schema']) ? js['schema'] : { type: 'object' },
      strict: js['strict'] === true,
      ...(description ? { description } : {}),
    };
  }
  if (rf['type'] === 'text') return { type: 'text' };
  return undefined;
}

const EFFORTS = new Set(['minimal', 'low', 'medium', 'high']);

function readReasoningRequest(body: Json): ReasoningRequest | undefined {
  const r = body['reasoning'];
  const legacyEffort = str(body['reasoning_effort']);
  if (isObj(r)) {
    const effort = str(r['effort']);
    const maxTokens = num(r['max_tokens']);
    // An empty `reasoning: {}` asks for reasoning at the model's default effort (OpenRouter).
    const enabled = !(r['enabled'] === false || effort === 'none');
    return {
      enabled,
      ...(effort && EFFORTS.has(effort) ? { effort: effort as ReasoningEffort } : {}),
      ...(effort === 'xhigh' ? { effort: 'high' as const } : {}),
      ...(maxTokens !== undefined && maxTokens > 0 ? { maxTokens: Math.floor(maxTokens) } : {}),
      exclude: r['exclude'] === true,
    };
  }
  if (legacyEffort !== undefined) {
    if (legacyEffort === 'none') return { enabled: false, exclude: false };
    return {
      enabled: true,
      ...(EFFORTS.has(legacyEffort) ? { effort: legacyEffort as ReasoningEffort } : {}),
      exclude: false,
    };
  }
  if (body['include_reasoning'] === true) return { enabled: true, exclude: false };
  if (body['include_reasoning'] === false) return { enabled: true, exclude: true };
  return undefined;
}

function readStop(v: unknown): string[] {
  if (typeof v === 'string') return v === '' ? [] : [v];
  if (Array.isArray(v)) return v.filter((s): s is string => typeof s === 'string' && s !== '');
  return [];
}

/** Reads a validated OpenAI chat request into the neutral model. */
export function readChatRequest(body: Json): ChatRequestModel {
  const system: TextPart[] = [];
  const turns: Turn[] = [];
  const messages = Array.isArray(body['messages']) ? body['messages'] : [];
  for (const m of messages) {
    if (!isObj(m)) continue;
    const role = m['role'];
    const parts = readContent(m['content']);
    const name = str(m['name']);
    if (role === 'system' || role === 'developer') {
      for (const p of parts) if (p.type === 'text') system.push(p);
    } else if (role === 'user') {
      turns.push({ role: 'user', parts, ...(name ? { name } : {}) });
    } else if (role === 'assistant') {
      const refusal = str(m['refusal']);
      turns.push({
        role: 'assistant',
        parts,
        toolCalls: readToolCalls(m),
        reasoning: readReasoning(m),
        ...(refusal ? { refusal } : {}),
      });
    } else if (role === 'tool' || role === 'function') {
      turns.push({
        role: 'tool',
        toolCallId: str(m['tool_call_id']) ?? name ?? '',
        parts,
        ...(name ? { name } : {}),
      });
    }
  }
  const maxTokens = num(body['max_completion_tokens']) ?? num(body['max_tokens']);
  const out: ChatRequestModel = {
    system,
    turns,
    tools: readTools(body),
    stop: readStop(body['stop']),
  };
  const toolChoice = readToolChoice(body);
  if (toolChoice !== undefined) out.toolChoice = toolChoice;
  if (typeof body['parallel_tool_calls'] === 'boolean')
    out.parallelToolCalls = body['parallel_tool_calls'];
  const rf = readResponseFormat(body);
  if (rf) out.responseFormat = rf;
  const reasoning = readReasoningRequest(body);
  if (reasoning) out.reasoning = reasoning;
  if (maxTokens !== undefined) out.maxTokens = Math.floor(maxTokens);
  const setNum = (k: keyof ChatRequestModel, v: unknown) => {
    const n = num(v);
    if (n !== undefined) (out as unknown as Record<string, number>)[k] = n;
  };
  setNum('temperature', body['temperature']);
  setNum('topP', body['top_p']);
  setNum('topK', body['top_k']);
  setNum('seed', body['seed']);
  setNum('presencePenalty', body['presence_penalty']);
  setNum('frequencyPenalty', body['frequency_penalty']);
  setNum('n', body['n']);
  const user = str(body['user']);
  if (user) out.user = user;
  return out;
}

/** The text of text parts, joined. */
export const textOf = (parts: readonly ContentPart[]): string =>
  parts
    .filter((p): p is TextPart => p.type === 'text')
    .map((p) => p.text)
    .join('');

/**
 * The trailing assistant message that a prefill-capable protocol continues, when the
 * conversation ends with one (text only, no tool calls).
 */
export function prefillOf(model: ChatRequestModel): string | undefined {
  const last = model.turns[model.turns.length - 1];
  if (!last || last.role !== 'assistant' || last.toolCalls.length > 0) return undefined;
  const text = textOf(last.parts);
  return text === '' ? undefined : text;
}
