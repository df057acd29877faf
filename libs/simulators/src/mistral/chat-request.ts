/**
 * Validation of `POST /v1/chat/completions` as Mistral does it: unknown top-level fields are
 * refused (422 `extra_forbidden`: no `stream_options`, no `seed`, no `max_completion_tokens`),
 * tool call ids must be 9 characters of `[a-zA-Z0-9]`, `prefix` only on a final assistant
 * message, `tool_choice` is `auto|none|any|required` or a named function.
 */
import { textOfContent } from '../core/content.js';
import type { FunctionTool, SimChatRequest, ToolChoice } from '../core/protocol.js';
import { mistralErrors } from './errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The request fields Mistral's chat completion takes (the SDK's `ChatCompletionRequest`). */
export const MISTRAL_REQUEST_FIELDS = new Set([
  'model',
  'messages',
  'temperature',
  'top_p',
  'max_tokens',
  'stream',
  'stop',
  'random_seed',
  'metadata',
  'response_format',
  'tools',
  'tool_choice',
  'presence_penalty',
  'frequency_penalty',
  'n',
  'prediction',
  'parallel_tool_calls',
  'reasoning_effort',
  'prompt_mode',
  'guardrails',
  'prompt_cache_key',
  'safe_prompt',
]);

const TOOL_CALL_ID = /^[a-zA-Z0-9]{9}$/;

function checkToolCallId(id: unknown): void {
  if (typeof id !== 'string' || !TOOL_CALL_ID.test(id))
    throw mistralErrors.invalid(
      `Tool call id was ${String(id)} but must be a-z, A-Z, 0-9, with a length of 9.`,
    );
}

function toolChoiceOf(raw: unknown): ToolChoice {
  if (raw === undefined || raw === null || raw === 'auto')
    return raw === 'auto' ? 'auto' : undefined;
  if (raw === 'none') return 'none';
  if (raw === 'any' || raw === 'required') return 'required';
  if (isObj(raw) && isObj(raw['function']) && typeof raw['function']['name'] === 'string')
    return { name: raw['function']['name'] };
  throw mistralErrors.validation([
    {
      type: 'enum',
      loc: ['body', 'tool_choice'],
      msg: "Input should be 'auto', 'none', 'any' or 'required'",
      input: raw,
    },
  ]);
}

export function parseMistralRequest(body: unknown): SimChatRequest {
  if (!isObj(body)) throw mistralErrors.invalid('Invalid JSON body');
  for (const [k, v] of Object.entries(body))
    if (!MISTRAL_REQUEST_FIELDS.has(k)) throw mistralErrors.extra(k, v);
  if (typeof body['model'] !== 'string' || body['model'] === '')
    throw mistralErrors.missing(['model']);
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0) throw mistralErrors.missing(['messages']);
  const texts: string[] = [];
  let system = '';
  let lastUser = '';
  let images = 0;
  let prefill: string | undefined;
  messages.forEach((m, i) => {
    if (!isObj(m) || !['system', 'user', 'assistant', 'tool'].includes(String(m['role'])))
      throw mistralErrors.validation([
        {
          type: 'union_tag_invalid',
          loc: ['body', 'messages', i],
          msg: 'Input tag does not match any of the expected tags',
          input: m,
        },
      ]);
    let text = textOfContent(m['content']);
    if (m['role'] === 'assistant' && Array.isArray(m['tool_calls']))
      for (const t of m['tool_calls']) {
        checkToolCallId(isObj(t) ? t['id'] : undefined);
        const f = isObj(t) && isObj(t['function']) ? t['function'] : {};
        text +=
          String(f['name'] ?? '') +
          (typeof f['arguments'] === 'string'
            ? f['arguments']
            : JSON.stringify(f['arguments'] ?? {}));
      }
    if (m['role'] === 'tool') checkToolCallId(m['tool_call_id']);
    if (m['prefix'] === true) {
      if (m['role'] !== 'assistant' || i !== messages.length - 1)
        throw mistralErrors.invalid(
          'Expected last role Assistant with prefix True to be the last message',
        );
      prefill = text;
    }
    if (m['role'] === 'system') system = system ? `${system}\n${text}` : text;
    if (m['role'] === 'user') {
      lastUser = text;
      if (Array.isArray(m['content']))
        images += m['content'].filter((c) => isObj(c) && c['type'] === 'image_url').length;
    }
    texts.push(text);
  });
  const tools: FunctionTool[] = (Array.isArray(body['tools']) ? body['tools'] : [])
    .filter((t): t is Obj => isObj(t) && isObj(t['function']))
    .map((t) => {
      const f = t['function'] as Obj;
      return {
        name: String(f['name']),
        parameters: f['parameters'] ?? { type: 'object', properties: {} },
      };
    });
  const maxTokens = body['max_tokens'];
  if (
    maxTokens !== undefined &&
    maxTokens !== null &&
    (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 0)
  )
    throw mistralErrors.validation([
      {
        type: 'int_parsing',
        loc: ['body', 'max_tokens'],
        msg: 'Input should be a valid integer',
        input: maxTokens,
      },
    ]);
  const rf = isObj(body['response_format']) ? body['response_format'] : {};
  const schema = isObj(rf['json_schema']) ? rf['json_schema']['schema'] : undefined;
  const stop = body['stop'];
  const effort = body['reasoning_effort'];
  const thinks =
    (typeof effort === 'string' && effort !== 'none') ||
    body['prompt_mode'] === 'reasoning' ||
    /magistral/.test(body['model']);
  return {
    model: body['model'],
    stream: body['stream'] === true,
    n: typeof body['n'] === 'number' ? body['n'] : 1,
    ...(typeof maxTokens === 'number' ? { maxTokens } : {}),
    tools,
    toolChoice: toolChoiceOf(body['tool_choice']),
    responseFormat:
      rf['type'] === 'json_schema'
        ? { type: 'json_schema', schema: schema ?? {} }
        : rf['type'] === 'json_object'
          ? { type: 'json_object' }
          : { type: 'text' },
    lastUserText: lastUser,
    promptTexts: texts,
    systemText: system,
    imageCount: images,
    ...(thinks ? { reasoning: {} } : {}),
    ...(prefill !== undefined ? { prefill } : {}),
    stop:
      typeof stop === 'string'
        ? [stop]
        : Array.isArray(stop)
          ? stop.filter((s): s is string => typeof s === 'string')
          : [],
  };
}
