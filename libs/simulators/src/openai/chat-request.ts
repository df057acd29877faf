/** Validation and normalisation of a `POST /v1/chat/completions` body, OpenAI-style. */
import {
  countTextTokens,
  type FunctionTool,
  type ResponseFormat,
  type SimChatRequest,
  type ToolChoice,
} from '../core/protocol.js';
import { errors } from './errors.js';

export type { FunctionTool, ResponseFormat, ToolChoice };

export const MESSAGE_ROLES = [
  'system',
  'assistant',
  'user',
  'function',
  'tool',
  'developer',
] as const;

export interface ChatMessage {
  role: string;
  content?: unknown;
  tool_calls?: unknown;
  [k: string]: unknown;
}

export interface ChatRequest extends SimChatRequest {
  messages: ChatMessage[];
  includeUsage: boolean;
  includeObfuscation: boolean;
  serviceTier?: string;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  switch (typeof v) {
    case 'string':
      return 'a string';
    case 'number':
      return Number.isInteger(v) ? 'an integer' : 'a decimal';
    case 'boolean':
      return 'a boolean';
    case 'object':
      return 'an object';
    default:
      return typeof v;
  }
}

/** The text of a message's content (string, or the `text` of its content parts). */
export function messageText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p) => (isObj(p) && typeof p['text'] === 'string' ? p['text'] : ''))
      .filter((t) => t.length > 0)
      .join('\n');
  }
  return '';
}

/** Anything message-shaped (the SDK's param types included). */
export interface MessageLike {
  content?: unknown;
  tool_calls?: unknown;
}

/** The text a message contributes to the prompt: its content and its tool calls. */
function promptText(m: MessageLike): string {
  let text = messageText(m.content);
  if (Array.isArray(m.tool_calls)) {
    for (const tc of m.tool_calls) {
      const fn = isObj(tc) && isObj(tc['function']) ? tc['function'] : {};
      text += String(fn['name'] ?? '') + String(fn['arguments'] ?? '');
    }
  }
  return text;
}

/** Prompt tokens: the sum over messages of `ceil(chars / 4) + 3`. */
export function countPromptTokens(messages: readonly MessageLike[]): number {
  return countTextTokens(messages.map(promptText));
}

function stopOf(v: unknown): string[] {
  if (typeof v === 'string') return [v];
  return Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
}

function positiveInt(body: Obj, param: string, max?: number): number | undefined {
  const v = body[param];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw errors.invalidType(param, 'an integer', describe(v));
  if (v < 1) throw errors.belowMinimum(param, v, 1);
  if (max !== undefined && v > max) throw errors.aboveMaximum(param, v, max);
  return v;
}

function parseMessages(raw: unknown): ChatMessage[] {
  if (raw === undefined || raw === null) throw errors.missingParam('messages');
  if (!Array.isArray(raw))
    throw errors.invalidType('messages', 'an array of objects', describe(raw));
  if (raw.length === 0) throw errors.emptyArray('messages');
  raw.forEach((m, i) => {
    if (!isObj(m)) throw errors.invalidType(`messages[${i}]`, 'an object', describe(m));
    const role = m['role'];
    if (role === undefined) throw errors.missingParam(`messages[${i}].role`);
    if (typeof role !== 'string' || !(MESSAGE_ROLES as readonly string[]).includes(role)) {
      throw errors.invalidValue(`messages[${i}].role`, String(role), MESSAGE_ROLES);
    }
  });
  return raw as ChatMessage[];
}

function parseTools(raw: unknown): FunctionTool[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw errors.invalidType('tools', 'an array of objects', describe(raw));
  const out: FunctionTool[] = [];
  raw.forEach((t, i) => {
    if (!isObj(t)) throw errors.invalidType(`tools[${i}]`, 'an object', describe(t));
    if (t['type'] !== 'function') return; // custom tools are accepted but never called
    const fn = t['function'];
    if (!isObj(fn) || typeof fn['name'] !== 'string')
      throw errors.missingParam(`tools[${i}].function.name`);
    out.push({
      name: fn['name'],
      parameters: fn['parameters'] ?? { type: 'object', properties: {} },
    });
  });
  return out;
}

function parseToolChoice(raw: unknown, hasTools: boolean): ToolChoice {
  if (raw === undefined || raw === null) return undefined;
  if (!hasTools) throw errors.toolChoiceWithoutTools();
  if (raw === 'none' || raw === 'auto' || raw === 'required') return raw;
  if (
    isObj(raw) &&
    raw['type'] === 'function' &&
    isObj(raw['function']) &&
    typeof raw['function']['name'] === 'string'
  ) {
    return { name: raw['function']['name'] };
  }
  if (isObj(raw) && raw['type'] === 'allowed_tools') {
    const mode = isObj(raw['allowed_tools']) ? raw['allowed_tools']['mode'] : undefined;
    return mode === 'required' ? 'required' : 'auto';
  }
  if (typeof raw === 'string')
    throw errors.invalidValue('tool_choice', raw, ['none', 'auto', 'required']);
  throw errors.invalidType('tool_choice', 'a string or an object', describe(raw));
}

function parseResponseFormat(raw: unknown): ResponseFormat {
  if (raw === undefined || raw === null) return { type: 'text' };
  if (!isObj(raw)) throw errors.invalidType('response_format', 'an object', describe(raw));
  switch (raw['type']) {
    case 'text':
      return { type: 'text' };
    case 'json_object':
      return { type: 'json_object' };
    case 'json_schema': {
      const js = raw['json_schema'];
      if (!isObj(js)) throw errors.missingParam('response_format.json_schema');
      return { type: 'json_schema', schema: js['schema'] ?? {} };
    }
    default:
      throw errors.invalidValue('response_format.type', String(raw['type']), [
        'text',
        'json_object',
        'json_schema',
      ]);
  }
}

/**
 * Whether the request asks for thinking, in any of the ways the OpenAI-compatible family does:
 * `reasoning_effort` (OpenAI, xAI, Fireworks, Ollama), OpenRouter's `reasoning` object (Together
 * takes `reasoning: {enabled}`), `include_reasoning`, Groq's and Cerebras' `reasoning_format`,
 * DeepSeek's `thinking: {type: 'enabled'}`, vLLM's `chat_template_kwargs.enable_thinking`.
 */
function asksForReasoning(body: Obj): boolean {
  const effort = body['reasoning_effort'];
  if (typeof effort === 'string' && effort !== 'none') return true;
  const r = body['reasoning'];
  if (isObj(r) && r['enabled'] !== false && r['effort'] !== 'none') return true;
  if (body['include_reasoning'] === true) return true;
  const format = body['reasoning_format'];
  if (format === 'parsed' || format === 'raw' || format === 'hidden') return true;
  const thinking = body['thinking'];
  if (isObj(thinking) && thinking['type'] === 'enabled') return true;
  const kwargs = body['chat_template_kwargs'];
  return isObj(kwargs) && kwargs['enable_thinking'] === true;
}

/**
 * The trailing assistant message the model continues, as the family marks it: `prefix: true`
 * on the message (DeepSeek, Mistral) or `continue_final_message` (vLLM). OpenAI itself has no
 * prefill: an unmarked trailing assistant message is answered, not continued.
 */
function prefillOf(body: Obj, messages: readonly ChatMessage[]): string | undefined {
  const last = messages[messages.length - 1];
  if (!last || last.role !== 'assistant') return undefined;
  if (last['prefix'] !== true && body['continue_final_message'] !== true) return undefined;
  const text = messageText(last.content);
  return text === '' ? undefined : text;
}

/** Validates a parsed JSON body; throws {@link SimHttpError}s shaped like OpenAI's. */
export function parseChatRequest(body: unknown): ChatRequest {
  if (!isObj(body)) throw errors.invalidJson();
  const model = body['model'];
  if (model === undefined || model === null || model === '') throw errors.missingModel();
  if (typeof model !== 'string') throw errors.invalidType('model', 'a string', describe(model));
  const messages = parseMessages(body['messages']);
  const tools = parseTools(body['tools']);
  const streamOptions = isObj(body['stream_options']) ? body['stream_options'] : {};
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  const maxTokens = positiveInt(body, 'max_completion_tokens') ?? positiveInt(body, 'max_tokens');
  const serviceTier = typeof body['service_tier'] === 'string' ? body['service_tier'] : undefined;
  const prefill = prefillOf(body, messages);
  return {
    model,
    messages,
    stream: body['stream'] === true,
    includeUsage: streamOptions['include_usage'] === true,
    includeObfuscation: streamOptions['include_obfuscation'] !== false,
    n: positiveInt(body, 'n', 128) ?? 1,
    ...(maxTokens !== undefined ? { maxTokens } : {}),
    tools,
    toolChoice: parseToolChoice(
      body['tool_choice'],
      Array.isArray(body['tools']) && body['tools'].length > 0,
    ),
    responseFormat: parseResponseFormat(body['response_format']),
    ...(serviceTier !== undefined ? { serviceTier } : {}),
    lastUserText: lastUser ? messageText(lastUser.content) : '',
    promptTexts: messages.map(promptText),
    systemText: messages
      .filter((m) => m.role === 'system' || m.role === 'developer')
      .map((m) => messageText(m.content))
      .join('\n'),
    imageCount: messages.reduce(
      (n, m) =>
        n +
        (Array.isArray(m.content)
          ? m.content.filter((p) => isObj(p) && p['type'] === 'image_url').length
          : 0),
      0,
    ),
    stop: stopOf(body['stop']),
    // o-series models think when asked for an effort: hidden, counted in usage (a compatible
    // server returns the thinking: the `reasoning_field` knob).
    ...(asksForReasoning(body) ? { reasoning: {} } : {}),
    ...(prefill !== undefined ? { prefill } : {}),
  };
}
