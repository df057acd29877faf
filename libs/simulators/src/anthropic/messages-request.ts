/**
 * Validation of a `POST /v1/messages` body the way the Messages API validates it (its
 * `invalid_request_error` messages name the field path, pydantic style: `max_tokens: Field
 * required`), and its reading into the neutral `SimChatRequest`.
 */
import type { FunctionTool, ResponseFormat, SimChatRequest, ToolChoice } from '../core/protocol.js';
import { errors } from './errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The API versions the simulator speaks (`anthropic-version`). */
export const API_VERSIONS = ['2023-06-01', '2026-10-21'] as const;
export type ApiVersion = (typeof API_VERSIONS)[number];

export interface MessagesRequest extends SimChatRequest {
  version: ApiVersion;
  /** `thinking` is on: thinking blocks (with signatures) come before the answer. */
  thinking: boolean;
}

const BLOCK_TYPES = new Set([
  'text',
  'image',
  'document',
  'search_result',
  'tool_use',
  'tool_result',
  'thinking',
  'redacted_thinking',
  'server_tool_use',
  'web_search_tool_result',
  'container_upload',
]);

function integer(body: Obj, field: string, min?: number): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v))
    throw errors.invalid(`${field}: Input should be a valid integer`);
  if (min !== undefined && v < min)
    throw errors.invalid(`${field}: Input should be greater than or equal to ${min}`);
  return v;
}

function numberIn(body: Obj, field: string, min: number, max: number): number | undefined {
  const v = body[field];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number') throw errors.invalid(`${field}: Input should be a valid number`);
  if (v < min) throw errors.invalid(`${field}: Input should be greater than or equal to ${min}`);
  if (v > max) throw errors.invalid(`${field}: Input should be less than or equal to ${max}`);
  return v;
}

/** The text a block contributes to the prompt. */
function blockText(b: Obj): string {
  switch (b['type']) {
    case 'text':
      return typeof b['text'] === 'string' ? b['text'] : '';
    case 'thinking':
      return typeof b['thinking'] === 'string' ? b['thinking'] : '';
    case 'tool_use':
      return `${String(b['name'] ?? '')}${JSON.stringify(b['input'] ?? {})}`;
    case 'tool_result':
      return contentText(b['content']);
    default:
      return '';
  }
}

function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .filter(isObj)
    .map(blockText)
    .filter((t) => t !== '')
    .join('\n');
}

function countImages(content: unknown): number {
  if (!Array.isArray(content)) return 0;
  return content
    .filter(isObj)
    .reduce(
      (n, b) =>
        n +
        (b['type'] === 'image' ? 1 : b['type'] === 'tool_result' ? countImages(b['content']) : 0),
      0,
    );
}

interface Message {
  role: 'user' | 'assistant';
  content: string | Obj[];
}

function validateBlock(b: unknown, path: string): Obj {
  if (!isObj(b)) throw errors.invalid(`${path}: Input should be a valid dictionary`);
  const type = b['type'];
  if (typeof type !== 'string' || !BLOCK_TYPES.has(type))
    throw errors.invalid(
      `${path}.type: Input tag '${String(type)}' found using 'type' does not match any of the expected tags`,
    );
  if (type === 'text') {
    if (typeof b['text'] !== 'string') throw errors.invalid(`${path}.text: Field required`);
    if (b['text'] === '') throw errors.invalid('messages: text content blocks must be non-empty');
  }
  if (type === 'image') {
    const s = b['source'];
    if (!isObj(s)) throw errors.invalid(`${path}.source: Field required`);
    if (s['type'] === 'base64') {
      if (!['image/jpeg', 'image/png', 'image/gif', 'image/webp'].includes(String(s['media_type'])))
        throw errors.invalid(
          `${path}.source.base64.media_type: Input should be 'image/jpeg', 'image/png', 'image/gif' or 'image/webp'`,
        );
      if (typeof s['data'] !== 'string')
        throw errors.invalid(`${path}.source.base64.data: Field required`);
    } else if (s['type'] === 'url') {
      if (typeof s['url'] !== 'string')
        throw errors.invalid(`${path}.source.url.url: Field required`);
    } else
      throw errors.invalid(
        `${path}.source: Input tag '${String(s['type'])}' found using 'type' does not match any of the expected tags`,
      );
  }
  if (type === 'tool_use') {
    if (typeof b['id'] !== 'string') throw errors.invalid(`${path}.id: Field required`);
    if (typeof b['name'] !== 'string') throw errors.invalid(`${path}.name: Field required`);
    if (!isObj(b['input']))
      throw errors.invalid(`${path}.input: Input should be a valid dictionary`);
  }
  if (type === 'tool_result' && typeof b['tool_use_id'] !== 'string')
    throw errors.invalid(`${path}.tool_use_id: Field required`);
  if (
    type === 'thinking' &&
    (typeof b['thinking'] !== 'string' || typeof b['signature'] !== 'string')
  )
    throw errors.invalid(`${path}.signature: Field required`);
  return b;
}

function parseMessages(raw: unknown): Message[] {
  if (raw === undefined || raw === null) throw errors.invalid('messages: Field required');
  if (!Array.isArray(raw)) throw errors.invalid('messages: Input should be a valid list');
  if (raw.length === 0) throw errors.invalid('messages: at least one message is required');
  const out: Message[] = raw.map((m, i) => {
    if (!isObj(m)) throw errors.invalid(`messages.${i}: Input should be a valid dictionary`);
    if (m['role'] !== 'user' && m['role'] !== 'assistant')
      throw errors.invalid(`messages.${i}.role: Input should be 'user' or 'assistant'`);
    const content = m['content'];
    if (typeof content === 'string') {
      if (content === '' && i !== raw.length - 1)
        throw errors.invalid(
          `messages.${i}: all messages must have non-empty content except for the optional final assistant message`,
        );
      return { role: m['role'], content };
    }
    if (!Array.isArray(content)) throw errors.invalid(`messages.${i}.content: Field required`);
    return {
      role: m['role'],
      content: content.map((b, j) => validateBlock(b, `messages.${i}.content.${j}`)),
    };
  });
  // Every tool_result answers a tool_use of the assistant message right before it.
  out.forEach((m, i) => {
    if (typeof m.content === 'string') return;
    const results = m.content.filter((b) => b['type'] === 'tool_result');
    if (results.length === 0) return;
    const prev = out[i - 1];
    const ids = new Set(
      prev && prev.role === 'assistant' && Array.isArray(prev.content)
        ? prev.content.filter((b) => b['type'] === 'tool_use').map((b) => b['id'])
        : [],
    );
    for (const r of results) {
      if (!ids.has(r['tool_use_id']))
        throw errors.invalid(
          `messages.${i}.content.0: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${String(r['tool_use_id'])}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
        );
    }
  });
  const last = out[out.length - 1]!;
  if (last.role === 'assistant') {
    const text =
      typeof last.content === 'string'
        ? last.content
        : (last.content.at(-1)?.['text'] as string | undefined);
    if (typeof text === 'string' && text !== text.trimEnd())
      throw errors.invalid('messages: final assistant content cannot end with trailing whitespace');
  }
  return out;
}

function parseSystem(raw: unknown): string {
  if (raw === undefined || raw === null) return '';
  if (typeof raw === 'string') return raw;
  if (!Array.isArray(raw)) throw errors.invalid('system: Input should be a valid string');
  return raw
    .map((b, i) => {
      if (!isObj(b) || b['type'] !== 'text' || typeof b['text'] !== 'string')
        throw errors.invalid(`system.${i}.text: Field required`);
      return b['text'];
    })
    .join('\n');
}

function parseTools(raw: unknown): FunctionTool[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) throw errors.invalid('tools: Input should be a valid list');
  const out: FunctionTool[] = [];
  raw.forEach((t, i) => {
    if (!isObj(t)) throw errors.invalid(`tools.${i}: Input should be a valid dictionary`);
    // Server tools (`web_search_20250305`, ...) have a versioned type and are never called here.
    if (t['type'] !== undefined && t['type'] !== null && t['type'] !== 'custom') return;
    if (typeof t['name'] !== 'string' || !/^[a-zA-Z0-9_-]{1,128}$/.test(t['name']))
      throw errors.invalid(
        `tools.${i}.custom.name: String should match pattern '^[a-zA-Z0-9_-]{1,128}$'`,
      );
    const schema = t['input_schema'];
    if (!isObj(schema)) throw errors.invalid(`tools.${i}.custom.input_schema: Field required`);
    if (schema['type'] !== 'object')
      throw errors.invalid(`tools.${i}.custom.input_schema.type: Input should be 'object'`);
    out.push({ name: t['name'], parameters: schema });
  });
  return out;
}

function parseToolChoice(raw: unknown, tools: FunctionTool[]): ToolChoice {
  if (raw === undefined || raw === null) return undefined;
  if (!isObj(raw)) throw errors.invalid('tool_choice: Input should be a valid dictionary');
  if (tools.length === 0 && raw['type'] !== 'none')
    throw errors.invalid('tool_choice: tool_choice may only be specified while providing tools.');
  switch (raw['type']) {
    case 'auto':
      return 'auto';
    case 'any':
      return 'required';
    case 'none':
      return 'none';
    case 'tool': {
      const name = raw['name'];
      if (typeof name !== 'string') throw errors.invalid('tool_choice.tool.name: Field required');
      if (!tools.some((t) => t.name === name))
        throw errors.invalid(`tool_choice.tool.name: Tool '${name}' not found in tools`);
      return { name };
    }
    default:
      throw errors.invalid(
        `tool_choice: Input tag '${String(raw['type'])}' found using 'type' does not match any of the expected tags: 'auto', 'any', 'tool', 'none'`,
      );
  }
}

function parseOutputFormat(raw: unknown): ResponseFormat {
  if (raw === undefined || raw === null) return { type: 'text' };
  if (!isObj(raw)) throw errors.invalid('output_config: Input should be a valid dictionary');
  const format = raw['format'];
  if (format === undefined || format === null) return { type: 'text' };
  if (!isObj(format) || format['type'] !== 'json_schema')
    throw errors.invalid("output_config.format.type: Input should be 'json_schema'");
  if (!isObj(format['schema'])) throw errors.invalid('output_config.format.schema: Field required');
  return { type: 'json_schema', schema: format['schema'] };
}

/** `thinking`, with the constraints extended thinking puts on the rest of the request. */
function parseThinking(
  body: Obj,
  maxTokens: number,
  toolChoice: ToolChoice,
  prefill: string | undefined,
  messages: readonly Message[],
): { budgetTokens?: number } | undefined {
  const t = body['thinking'];
  if (t === undefined || t === null) return undefined;
  if (!isObj(t)) throw errors.invalid('thinking: Input should be a valid dictionary');
  if (t['type'] === 'disabled') return undefined;
  if (t['type'] !== 'enabled' && t['type'] !== 'adaptive')
    throw errors.invalid(
      `thinking: Input tag '${String(t['type'])}' found using 'type' does not match any of the expected tags: 'enabled', 'disabled', 'adaptive'`,
    );
  let budget: number | undefined;
  if (t['type'] === 'enabled') {
    budget = integer(t, 'budget_tokens', 1024);
    if (budget === undefined)
      throw errors.invalid('thinking.enabled.budget_tokens: Field required');
    if (budget >= maxTokens)
      throw errors.invalid(
        '`max_tokens` must be greater than `thinking.budget_tokens`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#max-tokens-and-context-window-size',
      );
  }
  if (body['temperature'] !== undefined && body['temperature'] !== 1)
    throw errors.invalid(
      '`temperature` may only be set to 1 when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility',
    );
  if (body['top_k'] !== undefined)
    throw errors.invalid(
      '`top_k` may not be set when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility',
    );
  if (typeof body['top_p'] === 'number' && body['top_p'] < 0.95)
    throw errors.invalid(
      '`top_p` must be greater than or equal to 0.95 or unset when thinking is enabled. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking#feature-compatibility',
    );
  if (toolChoice === 'required' || typeof toolChoice === 'object')
    throw errors.invalid('Thinking may not be enabled when tool_choice forces tool use.');
  const lastAssistant = [...messages].reverse().find((m) => m.role === 'assistant');
  const calling =
    lastAssistant !== undefined &&
    Array.isArray(lastAssistant.content) &&
    lastAssistant.content.some((b) => b['type'] === 'tool_use');
  const startsThinking =
    calling &&
    Array.isArray(lastAssistant.content) &&
    ['thinking', 'redacted_thinking'].includes(String(lastAssistant.content[0]?.['type']));
  if (prefill !== undefined || (calling && !startsThinking))
    throw errors.invalid(
      'Expected `thinking` or `redacted_thinking`, but found `text`. When `thinking` is enabled, a final `assistant` message must start with a thinking block (preceeding the lastmost set of `tool_use` and `tool_result` blocks). We recommend you include thinking blocks from previous turns. To avoid this requirement, disable `thinking`. Please consult our documentation at https://docs.claude.com/en/docs/build-with-claude/extended-thinking',
    );
  return budget !== undefined ? { budgetTokens: budget } : {};
}

/** Validates a parsed body; throws the `invalid_request_error`s Anthropic answers with. */
export function parseMessagesRequest(body: unknown, version: ApiVersion): MessagesRequest {
  if (!isObj(body)) throw errors.invalidJson();
  const model = body['model'];
  if (model === undefined || model === null) throw errors.invalid('model: Field required');
  if (typeof model !== 'string') throw errors.invalid('model: Input should be a valid string');
  const maxTokens = integer(body, 'max_tokens', 1);
  if (maxTokens === undefined) throw errors.invalid('max_tokens: Field required');
  const messages = parseMessages(body['messages']);
  const systemText = parseSystem(body['system']);
  if (version === '2026-10-21') {
    // API version 2026-10-21 removed the sampling parameters.
    for (const field of ['temperature', 'top_p', 'top_k'])
      if (body[field] !== undefined)
        throw errors.invalid(`${field}: Extra inputs are not permitted`);
  }
  numberIn(body, 'temperature', 0, 1);
  numberIn(body, 'top_p', 0, 1);
  integer(body, 'top_k', 0);
  const stop = body['stop_sequences'];
  if (stop !== undefined && (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string')))
    throw errors.invalid('stop_sequences: Input should be a valid list');
  const metadata = body['metadata'];
  if (
    metadata !== undefined &&
    (!isObj(metadata) ||
      (metadata['user_id'] !== undefined &&
        metadata['user_id'] !== null &&
        typeof metadata['user_id'] !== 'string'))
  )
    throw errors.invalid('metadata.user_id: Input should be a valid string');
  const tools = parseTools(body['tools']);
  const toolChoice = parseToolChoice(body['tool_choice'], tools);
  const responseFormat = parseOutputFormat(body['output_config']);
  const last = messages[messages.length - 1]!;
  const prefill = last.role === 'assistant' ? contentText(last.content) : undefined;
  const thinking = parseThinking(body, maxTokens, toolChoice, prefill, messages);
  const lastUser = [...messages].reverse().find((m) => m.role === 'user');
  // The directives and words of the last user turn are in its own text, not in tool results.
  const lastUserText = !lastUser
    ? ''
    : typeof lastUser.content === 'string'
      ? lastUser.content
      : lastUser.content
          .filter((b) => b['type'] === 'text')
          .map((b) => b['text'] as string)
          .join('\n');
  return {
    version,
    model,
    stream: body['stream'] === true,
    n: 1,
    maxTokens,
    tools,
    toolChoice,
    responseFormat,
    lastUserText,
    promptTexts: [
      ...(systemText ? [systemText] : []),
      ...messages.map((m) => contentText(m.content)),
    ],
    systemText,
    imageCount: messages.reduce((n, m) => n + countImages(m.content), 0),
    ...(thinking ? { reasoning: thinking } : {}),
    thinking: thinking !== undefined,
    ...(prefill !== undefined && prefill !== '' ? { prefill } : {}),
    stop: Array.isArray(stop) ? (stop as string[]) : [],
  };
}
