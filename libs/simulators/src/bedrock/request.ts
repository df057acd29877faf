/**
 * A Converse / ConverseStream request body, validated as Bedrock does (AWS's constraint
 * messages, Converse's conversation rules, Claude's rules relayed as "The model returned the
 * following errors: ...") and read into the neutral `SimChatRequest`.
 */
import type { FunctionTool, ResponseFormat, SimChatRequest, ToolChoice } from '../core/protocol.js';
import { errors } from './errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface ConverseSimRequest extends SimChatRequest {
  /** The model is an Anthropic Claude model (extended thinking, Claude's rules). */
  claude: boolean;
}

/** `anthropic.claude-...`, `us.anthropic.claude-...` and ARNs of either. */
export const isClaude = (modelId: string): boolean => /(^|[./:])anthropic\.claude/i.test(modelId);

const IMAGE_FORMATS = ['png', 'jpeg', 'gif', 'webp'];
const TOOL_NAME = /^[a-zA-Z0-9_-]{1,64}$/;
const TOOL_USE_ID = /^[a-zA-Z0-9_-]{1,64}$/;
const THINKING_DOCS =
  'Please consult our documentation at https://docs.anthropic.com/en/docs/build-with-claude/extended-thinking';

interface MessageView {
  role: string;
  /** Text of the message for the prompt count (text, tool calls and results, reasoning). */
  promptText: string;
  /** Its text blocks only. */
  text: string;
  toolUseIds: string[];
  toolResultIds: string[];
  images: number;
}

function blockText(b: Obj): string {
  if (typeof b['text'] === 'string') return b['text'];
  if (isObj(b['json'])) return JSON.stringify(b['json']);
  return '';
}

function readImage(image: unknown, at: string): void {
  if (!isObj(image) || !IMAGE_FORMATS.includes(String(image['format'])))
    throw errors.constraint(
      isObj(image) ? image['format'] : image,
      `${at}.image.format`,
      `Member must satisfy enum value set: [${IMAGE_FORMATS.join(', ')}]`,
    );
  const source = isObj(image['source']) ? image['source'] : {};
  const bytes = source['bytes'];
  const s3 = isObj(source['s3Location']) ? source['s3Location']['uri'] : undefined;
  if (typeof bytes === 'string') {
    if (bytes === '' || !/^[A-Za-z0-9+/]*={0,2}$/.test(bytes) || bytes.length % 4 !== 0)
      throw errors.validation(
        `Invalid base64 encoding of the image bytes at ${at}.image.source.bytes.`,
      );
  } else if (typeof s3 !== 'string' || !s3.startsWith('s3://')) {
    throw errors.validation(
      `The image source at ${at}.image.source must have bytes or an s3Location.`,
    );
  }
}

function readMessage(m: unknown, i: number): MessageView {
  const at = `messages.${i}`;
  if (!isObj(m)) throw errors.serialization();
  const role = m['role'];
  if (role !== 'user' && role !== 'assistant')
    throw errors.constraint(
      role,
      `${at}.member.role`,
      'Member must satisfy enum value set: [user, assistant]',
    );
  const content = m['content'];
  if (!Array.isArray(content) || content.length === 0)
    throw errors.constraint(
      Array.isArray(content) ? '[]' : 'null',
      `${at}.member.content`,
      'Member must have length greater than or equal to 1',
    );
  const view: MessageView = {
    role,
    promptText: '',
    text: '',
    toolUseIds: [],
    toolResultIds: [],
    images: 0,
  };
  const prompt: string[] = [];
  const texts: string[] = [];
  content.forEach((b: unknown, j) => {
    const here = `${at}.content.${j}`;
    if (!isObj(b)) throw errors.serialization();
    if ('text' in b) {
      if (typeof b['text'] !== 'string' || b['text'].trim() === '')
        throw errors.validation(
          `The text field in the ContentBlock object at ${here} is blank. Add text to the text field, and try again.`,
        );
      texts.push(b['text']);
      prompt.push(b['text']);
    } else if ('image' in b) {
      readImage(b['image'], here);
      view.images++;
    } else if ('document' in b) {
      const d = b['document'];
      if (!isObj(d) || typeof d['name'] !== 'string' || !isObj(d['source']))
        throw errors.validation(`The document at ${here} needs a name and a source.`);
    } else if ('toolUse' in b) {
      const t = b['toolUse'];
      if (!isObj(t)) throw errors.serialization();
      if (typeof t['toolUseId'] !== 'string' || !TOOL_USE_ID.test(t['toolUseId']))
        throw errors.constraint(
          t['toolUseId'],
          `${here}.member.toolUse.toolUseId`,
          'Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+',
        );
      if (role !== 'assistant')
        throw errors.validation(`The toolUse block at ${here} must be in an assistant message.`);
      view.toolUseIds.push(t['toolUseId']);
      prompt.push(String(t['name'] ?? '') + JSON.stringify(t['input'] ?? {}));
    } else if ('toolResult' in b) {
      const t = b['toolResult'];
      if (!isObj(t) || typeof t['toolUseId'] !== 'string' || !Array.isArray(t['content']))
        throw errors.serialization();
      if (role !== 'user')
        throw errors.validation(`The toolResult block at ${here} must be in a user message.`);
      view.toolResultIds.push(t['toolUseId']);
      for (const c of t['content'] as unknown[]) {
        if (!isObj(c)) continue;
        if (isObj(c['image'])) {
          readImage(c['image'], `${here}.toolResult`);
          view.images++;
        }
        prompt.push(blockText(c));
      }
    } else if ('reasoningContent' in b) {
      const r = b['reasoningContent'];
      if (isObj(r) && isObj(r['reasoningText']))
        prompt.push(String(r['reasoningText']['text'] ?? ''));
    } else if (!('cachePoint' in b) && !('guardContent' in b)) {
      throw errors.validation(`The content block at ${here} has no member Converse knows.`);
    }
  });
  view.promptText = prompt.filter((t) => t !== '').join('\n');
  view.text = texts.join('\n');
  return view;
}

/** Converse's conversation rules, and Claude's tool-use pairing (relayed as the model's error). */
function checkConversation(views: MessageView[]): void {
  if (views[0]?.role !== 'user')
    throw errors.validation(
      'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
    );
  views.forEach((v, i) => {
    if (i > 0 && views[i - 1]!.role === v.role)
      throw errors.validation(
        'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.',
      );
    const previous = i > 0 ? views[i - 1]!.toolUseIds : [];
    const stray = v.toolResultIds.filter((id) => !previous.includes(id));
    if (stray.length > 0)
      throw errors.model(
        `messages.${i}.content: unexpected \`tool_use_id\` found in \`tool_result\` blocks: ${stray.join(', ')}. Each \`tool_result\` block must have a corresponding \`tool_use\` block in the previous message.`,
      );
    const next = views[i + 1];
    if (v.toolUseIds.length > 0 && next) {
      const missing = v.toolUseIds.filter((id) => !next.toolResultIds.includes(id));
      if (missing.length > 0)
        throw errors.model(
          `messages.${i + 1}: \`tool_use\` ids were found without \`tool_result\` blocks immediately after: ${missing.join(', ')}. Each \`tool_use\` block must have a corresponding \`tool_result\` block in the next message.`,
        );
    }
  });
}

function readTools(toolConfig: unknown): { tools: FunctionTool[]; toolChoice: ToolChoice } {
  if (toolConfig === undefined) return { tools: [], toolChoice: undefined };
  if (!isObj(toolConfig) || !Array.isArray(toolConfig['tools']) || toolConfig['tools'].length === 0)
    throw errors.constraint(
      '[]',
      'toolConfig.tools',
      'Member must have length greater than or equal to 1',
    );
  const tools: FunctionTool[] = [];
  (toolConfig['tools'] as unknown[]).forEach((t, i) => {
    if (isObj(t) && 'cachePoint' in t) return;
    const spec = isObj(t) && isObj(t['toolSpec']) ? t['toolSpec'] : null;
    if (!spec) throw errors.serialization();
    if (typeof spec['name'] !== 'string' || !TOOL_NAME.test(spec['name']))
      throw errors.constraint(
        spec['name'],
        `toolConfig.tools.${i}.member.toolSpec.name`,
        'Member must satisfy regular expression pattern: [a-zA-Z0-9_-]+',
      );
    const schema = isObj(spec['inputSchema']) ? spec['inputSchema']['json'] : undefined;
    if (!isObj(schema))
      throw errors.validation(`The inputSchema of tool '${spec['name']}' must be a JSON schema.`);
    tools.push({ name: spec['name'], parameters: schema });
  });
  const c = toolConfig['toolChoice'];
  let toolChoice: ToolChoice;
  if (c === undefined || (isObj(c) && isObj(c['auto']))) toolChoice = undefined;
  else if (isObj(c) && isObj(c['any'])) toolChoice = 'required';
  else if (isObj(c) && isObj(c['tool']) && typeof c['tool']['name'] === 'string') {
    const name = c['tool']['name'];
    if (!tools.some((t) => t.name === name))
      throw errors.validation(
        `The value of toolChoice.tool.name (${name}) doesn't match any of the specified tools.`,
      );
    toolChoice = { name };
  } else throw errors.serialization();
  return { tools, toolChoice };
}

function readResponseFormat(outputConfig: unknown): ResponseFormat {
  const f =
    isObj(outputConfig) && isObj(outputConfig['textFormat']) ? outputConfig['textFormat'] : null;
  if (!f) return { type: 'text' };
  const js =
    isObj(f['structure']) && isObj(f['structure']['jsonSchema'])
      ? f['structure']['jsonSchema']
      : null;
  if (f['type'] !== 'json_schema' || !js || typeof js['schema'] !== 'string')
    throw errors.validation('outputConfig.textFormat must be a json_schema with a schema string.');
  try {
    return { type: 'json_schema', schema: JSON.parse(js['schema']) as unknown };
  } catch {
    throw errors.validation(
      'The schema of outputConfig.textFormat.structure.jsonSchema is not valid JSON.',
    );
  }
}

function readInference(cfg: unknown): {
  maxTokens?: number;
  temperature?: number;
  topP?: number;
  stop: string[];
} {
  if (cfg === undefined) return { stop: [] };
  if (!isObj(cfg)) throw errors.serialization();
  const out: { maxTokens?: number; temperature?: number; topP?: number; stop: string[] } = {
    stop: [],
  };
  const max = cfg['maxTokens'];
  if (max !== undefined) {
    if (typeof max !== 'number' || !Number.isInteger(max) || max < 1)
      throw errors.constraint(
        max,
        'inferenceConfig.maxTokens',
        'Member must have value greater than or equal to 1',
      );
    out.maxTokens = max;
  }
  for (const [key, field] of [
    ['temperature', 'temperature'],
    ['topP', 'topP'],
  ] as const) {
    const v = cfg[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || v < 0 || v > 1)
      throw errors.constraint(
        v,
        `inferenceConfig.${key}`,
        'Member must have value less than or equal to 1',
      );
    out[field] = v;
  }
  const stop = cfg['stopSequences'];
  if (stop !== undefined) {
    if (!Array.isArray(stop) || stop.some((s) => typeof s !== 'string'))
      throw errors.serialization();
    out.stop = stop as string[];
  }
  return out;
}

/** Claude's extended thinking and its rules. */
function readThinking(
  fields: Obj,
  claude: boolean,
  inference: { maxTokens?: number; temperature?: number; topP?: number },
  toolChoice: ToolChoice,
): { budgetTokens: number } | undefined {
  const thinking = fields['thinking'];
  if (thinking === undefined) return undefined;
  if (!claude)
    throw errors.validation(
      'Malformed input request: extraneous key [thinking] is not permitted, please reformat your input and try again.',
    );
  if (!isObj(thinking) || thinking['type'] !== 'enabled') return undefined;
  const budget = thinking['budget_tokens'];
  if (typeof budget !== 'number' || !Number.isInteger(budget) || budget < 1024)
    throw errors.model(
      'thinking.enabled.budget_tokens: Input should be greater than or equal to 1024',
    );
  if (inference.maxTokens !== undefined && inference.maxTokens <= budget)
    throw errors.model(
      `\`max_tokens\` must be greater than \`thinking.budget_tokens\`. ${THINKING_DOCS}#max-tokens-and-context-window-size`,
    );
  if (inference.temperature !== undefined && inference.temperature !== 1)
    throw errors.model(
      `\`temperature\` may only be set to 1 when thinking is enabled. ${THINKING_DOCS}#feature-compatibility`,
    );
  if (inference.topP !== undefined && inference.topP < 0.95)
    throw errors.model(
      `\`top_p\` must be greater than or equal to 0.95 or unset when thinking is enabled. ${THINKING_DOCS}#feature-compatibility`,
    );
  if (fields['top_k'] !== undefined)
    throw errors.model(
      `\`top_k\` must be unset when thinking is enabled. ${THINKING_DOCS}#feature-compatibility`,
    );
  if (toolChoice === 'required' || typeof toolChoice === 'object')
    throw errors.model('Thinking may not be enabled when tool_choice forces tool use.');
  return { budgetTokens: budget };
}

/** Validates a Converse body for `model` and reads it. */
export function parseConverseRequest(
  body: unknown,
  model: string,
  stream: boolean,
): ConverseSimRequest {
  if (!isObj(body)) throw errors.serialization();
  const raw = body['messages'];
  if (raw === undefined || raw === null)
    throw errors.constraint('null', 'messages', 'Member must not be null');
  if (!Array.isArray(raw)) throw errors.serialization();
  if (raw.length === 0)
    throw errors.validation(
      'A conversation must start with a user message. Try again with a conversation that starts with a user message.',
    );
  const views = raw.map(readMessage);
  checkConversation(views);
  const usesTools = views.some((v) => v.toolUseIds.length > 0 || v.toolResultIds.length > 0);
  if (usesTools && body['toolConfig'] === undefined)
    throw errors.validation(
      'The toolConfig field must be defined when using toolUse and toolResult content blocks.',
    );
  const system = Array.isArray(body['system']) ? (body['system'] as unknown[]).filter(isObj) : [];
  const systemTexts = system
    .map((b) => (typeof b['text'] === 'string' ? b['text'] : ''))
    .filter((t) => t !== '');
  const { tools, toolChoice } = readTools(body['toolConfig']);
  const inference = readInference(body['inferenceConfig']);
  const fields = isObj(body['additionalModelRequestFields'])
    ? body['additionalModelRequestFields']
    : {};
  const claude = isClaude(model);
  const reasoning = readThinking(fields, claude, inference, toolChoice);
  const lastUser = [...views].reverse().find((v) => v.role === 'user');
  const last = views[views.length - 1]!;
  return {
    model,
    stream,
    n: 1,
    ...(inference.maxTokens !== undefined ? { maxTokens: inference.maxTokens } : {}),
    tools,
    toolChoice,
    responseFormat: readResponseFormat(body['outputConfig']),
    lastUserText: lastUser?.text ?? '',
    promptTexts: [...systemTexts, ...views.map((v) => v.promptText)],
    systemText: systemTexts.join('\n'),
    imageCount: views.reduce((n, v) => n + v.images, 0),
    ...(reasoning ? { reasoning } : {}),
    ...(last.role === 'assistant' ? { prefill: last.text } : {}),
    stop: inference.stop,
    claude,
  };
}
