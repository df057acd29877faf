/** Validation of a `GenerateContentRequest` (the Gemini API's and Vertex AI's) into neutral terms. */
import type { FunctionTool, ResponseFormat, SimChatRequest, ToolChoice } from '../core/protocol.js';
import type { SimHttpError } from '../core/sim-error.js';
import type { GeminiRoute } from './errors.js';

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface GeminiChatRequest extends SimChatRequest {
  route: GeminiRoute;
  /** `streamGenerateContent?alt=sse` (otherwise a stream is a JSON array). */
  sse: boolean;
  /** `thinkingConfig.includeThoughts`: thought parts are shown, not only counted. */
  includeThoughts: boolean;
}

/** Gemini's `Schema` (OpenAPI subset, upper-case types) as the JSON Schema the planner reads. */
export function jsonSchemaOf(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(jsonSchemaOf);
  if (!isObj(schema)) return schema;
  const out: Obj = {};
  for (const [k, v] of Object.entries(schema)) {
    if (k === 'type' && typeof v === 'string') out[k] = v.toLowerCase();
    else if (k === 'properties' && isObj(v))
      out[k] = Object.fromEntries(Object.entries(v).map(([p, s]) => [p, jsonSchemaOf(s)]));
    else if (k === 'items' || k === 'anyOf') out[k] = jsonSchemaOf(v);
    else out[k] = v;
  }
  return out;
}

/** The text a part contributes to the prompt. */
function partText(p: Obj): string {
  if (typeof p['text'] === 'string') return p['text'];
  if (isObj(p['functionCall']))
    return `${String(p['functionCall']['name'] ?? '')}${JSON.stringify(p['functionCall']['args'] ?? {})}`;
  if (isObj(p['functionResponse']))
    return `${String(p['functionResponse']['name'] ?? '')}${JSON.stringify(p['functionResponse']['response'] ?? {})}`;
  return '';
}

const isImage = (p: Obj): boolean => {
  const blob = isObj(p['inlineData'])
    ? p['inlineData']
    : isObj(p['fileData'])
      ? p['fileData']
      : null;
  return blob !== null && String(blob['mimeType'] ?? '').startsWith('image/');
};

export interface ParseErrors {
  invalid(message: string): SimHttpError;
  invalidJson(): SimHttpError;
}

function tools(body: Obj, e: ParseErrors): FunctionTool[] {
  const out: FunctionTool[] = [];
  const list = body['tools'];
  if (list === undefined) return out;
  if (!Array.isArray(list))
    throw e.invalid(
      "Invalid value at 'tools' (type.googleapis.com/google.ai.generativelanguage.v1beta.Tool), expected a list.",
    );
  list.forEach((t, i) => {
    if (!isObj(t)) return;
    const decls = t['functionDeclarations'];
    if (!Array.isArray(decls)) return; // googleSearch, codeExecution, ...: accepted, never called
    decls.forEach((d, j) => {
      if (!isObj(d) || typeof d['name'] !== 'string' || d['name'] === '')
        throw e.invalid(
          `* GenerateContentRequest.tools[${i}].function_declarations[${j}].name: Name cannot be empty.\n`,
        );
      const parameters =
        d['parametersJsonSchema'] ?? (d['parameters'] ? jsonSchemaOf(d['parameters']) : undefined);
      out.push({ name: d['name'], parameters: parameters ?? { type: 'object', properties: {} } });
    });
  });
  return out;
}

function toolChoice(
  body: Obj,
  declared: FunctionTool[],
): { choice: ToolChoice; allowed: FunctionTool[] } {
  const cfg =
    isObj(body['toolConfig']) && isObj(body['toolConfig']['functionCallingConfig'])
      ? body['toolConfig']['functionCallingConfig']
      : undefined;
  if (!cfg) return { choice: undefined, allowed: declared };
  const names = Array.isArray(cfg['allowedFunctionNames'])
    ? cfg['allowedFunctionNames'].filter((n): n is string => typeof n === 'string')
    : [];
  switch (cfg['mode']) {
    case 'NONE':
      return { choice: 'none', allowed: declared };
    case 'ANY': {
      const allowed = names.length > 0 ? declared.filter((t) => names.includes(t.name)) : declared;
      if (allowed.length === 1) return { choice: { name: allowed[0]!.name }, allowed };
      return { choice: 'required', allowed };
    }
    case 'AUTO':
    case 'VALIDATED':
      return { choice: 'auto', allowed: declared };
    default:
      return { choice: undefined, allowed: declared };
  }
}

function responseFormat(config: Obj): ResponseFormat {
  if (config['responseMimeType'] !== 'application/json') return { type: 'text' };
  if (config['responseJsonSchema'] !== undefined)
    return { type: 'json_schema', schema: config['responseJsonSchema'] };
  if (config['responseSchema'] !== undefined)
    return { type: 'json_schema', schema: jsonSchemaOf(config['responseSchema']) };
  return { type: 'json_object' };
}

const ROLES = new Set(['user', 'model', 'function']);

/** Validates a request body; throws Google's 400s. */
export function parseGenerateContent(
  body: unknown,
  at: { model: string; stream: boolean; sse: boolean; route: GeminiRoute },
  e: ParseErrors,
): GeminiChatRequest {
  if (!isObj(body)) throw e.invalidJson();
  const contents = body['contents'];
  if (!Array.isArray(contents) || contents.length === 0)
    throw e.invalid('* GenerateContentRequest.contents: contents is not specified\n');
  const texts: string[] = [];
  let imageCount = 0;
  let lastUserText = '';
  const system = isObj(body['systemInstruction']) ? body['systemInstruction'] : undefined;
  const systemParts = system && Array.isArray(system['parts']) ? system['parts'].filter(isObj) : [];
  const systemText = systemParts.map(partText).join('\n');
  if (systemText !== '') texts.push(systemText);
  contents.forEach((c, i) => {
    if (!isObj(c)) throw e.invalid(`* GenerateContentRequest.contents[${i}]: must be an object\n`);
    const role = c['role'] ?? 'user';
    if (typeof role !== 'string' || !ROLES.has(role))
      throw e.invalid('Please use a valid role: user, model.');
    const parts = Array.isArray(c['parts']) ? c['parts'].filter(isObj) : [];
    if (parts.length === 0)
      throw e.invalid(
        `* GenerateContentRequest.contents[${i}].parts: contents.parts must not be empty.\n`,
      );
    texts.push(parts.map(partText).join(''));
    imageCount += parts.filter(isImage).length;
    const userText = parts
      .filter((p) => typeof p['text'] === 'string')
      .map((p) => p['text'] as string)
      .join('\n');
    if (role === 'user' && userText !== '') lastUserText = userText;
  });
  const config = isObj(body['generationConfig']) ? body['generationConfig'] : {};
  const n = config['candidateCount'] ?? 1;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > 8)
    throw e.invalid(
      '* GenerateContentRequest.generation_config.candidate_count: must be between 1 and 8.\n',
    );
  const maxTokens = config['maxOutputTokens'];
  if (
    maxTokens !== undefined &&
    (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1)
  )
    throw e.invalid(
      '* GenerateContentRequest.generation_config.max_output_tokens: must be a positive integer.\n',
    );
  const declared = tools(body, e);
  const { choice, allowed } = toolChoice(body, declared);
  const thinking = isObj(config['thinkingConfig']) ? config['thinkingConfig'] : undefined;
  const budget =
    typeof thinking?.['thinkingBudget'] === 'number' ? thinking['thinkingBudget'] : undefined;
  const thinks = thinking !== undefined && budget !== 0;
  const stop = Array.isArray(config['stopSequences'])
    ? config['stopSequences'].filter((s): s is string => typeof s === 'string')
    : [];
  return {
    model: at.model,
    stream: at.stream,
    sse: at.sse,
    route: at.route,
    n,
    ...(typeof maxTokens === 'number' ? { maxTokens } : {}),
    tools: allowed,
    toolChoice: choice,
    responseFormat: responseFormat(config),
    lastUserText,
    promptTexts: texts,
    systemText,
    imageCount,
    ...(thinks
      ? { reasoning: budget !== undefined && budget > 0 ? { budgetTokens: budget } : {} }
      : {}),
    includeThoughts: thinks && thinking?.['includeThoughts'] === true,
    stop,
  };
}
