/** Validation of `POST /v2/chat` (Cohere v2's chat request, the SDK's `V2ChatRequest`). */
import { textOfContent } from '../core/content.js';
import type { FunctionTool, SimChatRequest, ToolChoice } from '../core/protocol.js';
import { cohereErrors } from './errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function toolChoiceOf(raw: unknown): ToolChoice {
  if (raw === undefined || raw === null) return undefined;
  if (raw === 'REQUIRED') return 'required';
  if (raw === 'NONE') return 'none';
  throw cohereErrors.invalid(
    `tool_choice must be one of REQUIRED, NONE; got ${JSON.stringify(raw)}`,
  );
}

export function parseCohereRequest(body: unknown): SimChatRequest {
  if (!isObj(body)) throw cohereErrors.invalid('invalid json body');
  if (typeof body['model'] !== 'string' || body['model'] === '')
    throw cohereErrors.invalid('model is required');
  const messages = body['messages'];
  if (!Array.isArray(messages) || messages.length === 0)
    throw cohereErrors.invalid('messages must not be empty');
  const texts: string[] = [];
  let system = '';
  let lastUser = '';
  let images = 0;
  messages.forEach((m, i) => {
    const role = isObj(m) ? m['role'] : undefined;
    if (!isObj(m) || !['system', 'user', 'assistant', 'tool'].includes(String(role)))
      throw cohereErrors.invalid(`messages[${i}]: unknown role ${JSON.stringify(role)}`);
    if (role === 'system' && i !== 0)
      throw cohereErrors.invalid('system turn must be the first in the list');
    let text = textOfContent(m['content']);
    if (role === 'assistant') {
      if (typeof m['tool_plan'] === 'string') text = m['tool_plan'] + text;
      for (const t of Array.isArray(m['tool_calls']) ? m['tool_calls'] : []) {
        const f = isObj(t) && isObj(t['function']) ? t['function'] : {};
        text += String(f['name'] ?? '') + String(f['arguments'] ?? '');
      }
    }
    if (role === 'tool' && typeof m['tool_call_id'] !== 'string')
      throw cohereErrors.invalid(`messages[${i}]: tool_call_id is required`);
    if (role === 'system') system = text;
    if (role === 'user') {
      lastUser = text;
      if (Array.isArray(m['content']))
        images += m['content'].filter((c) => isObj(c) && c['type'] === 'image_url').length;
    }
    texts.push(text);
  });
  const tools: FunctionTool[] = (Array.isArray(body['tools']) ? body['tools'] : [])
    .filter((t): t is Obj => isObj(t) && t['type'] === 'function' && isObj(t['function']))
    .map((t) => {
      const f = t['function'] as Obj;
      return {
        name: String(f['name']),
        parameters: f['parameters'] ?? { type: 'object', properties: {} },
      };
    });
  const rf = isObj(body['response_format']) ? body['response_format'] : {};
  const thinking = isObj(body['thinking']) ? body['thinking'] : undefined;
  const budget =
    thinking && typeof thinking['token_budget'] === 'number' ? thinking['token_budget'] : undefined;
  const maxTokens = body['max_tokens'];
  const stop = body['stop_sequences'];
  return {
    model: body['model'],
    stream: body['stream'] === true,
    n: 1,
    ...(typeof maxTokens === 'number' ? { maxTokens } : {}),
    tools,
    toolChoice: toolChoiceOf(body['tool_choice']),
    responseFormat:
      rf['type'] === 'json_object'
        ? isObj(rf['json_schema'])
          ? { type: 'json_schema', schema: rf['json_schema'] }
          : { type: 'json_object' }
        : { type: 'text' },
    lastUserText: lastUser,
    promptTexts: texts,
    systemText: system,
    imageCount: images,
    ...(thinking?.['type'] === 'enabled'
      ? { reasoning: budget !== undefined ? { budgetTokens: budget } : {} }
      : {}),
    stop: Array.isArray(stop) ? stop.filter((s): s is string => typeof s === 'string') : [],
  };
}
