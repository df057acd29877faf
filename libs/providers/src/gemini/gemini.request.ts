/**
 * The conversation of a chat request as Gemini's `GenerateContentRequest` (the same body for the
 * Gemini API and Vertex AI): `systemInstruction`, `contents` of `user` and `model` turns, tools as
 * `functionDeclarations`, `tool_choice` as `toolConfig.functionCallingConfig`, `response_format`
 * as `responseMimeType` + `responseSchema`. Reads the protocol-neutral `ChatRequestModel`.
 */
import { isObj, tryParse, type Json } from '../core/json.js';
import { RequestMappingError } from '../core/param-map.js';
import type {
  ChatRequestModel,
  ContentPart,
  ReasoningBlock,
  ResponseFormat,
  ToolChoice,
  ToolSpec,
  Turn,
} from '../core/request-model.js';
import { toGeminiSchema, usesReferences } from './gemini.schema.js';

/** The `format` of the reasoning details this provider returns (OpenRouter's name). */
export const GEMINI_REASONING_FORMAT = 'google-gemini-v1';

/** Tool-call ids the gateway makes up (Gemini's function calls usually carry none). */
export const GENERATED_CALL_ID = /^call_/;

function invalid(message: string, param: string): RequestMappingError {
  return new RequestMappingError({
    status: 400,
    type: 'invalid_request_error',
    message,
    code: 'invalid_value',
    param,
    retryable: false,
    upstreamStatus: null,
    retryAfterSec: null,
  });
}

const IMAGE_TYPES: Readonly<Record<string, string>> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  webp: 'image/webp',
  gif: 'image/gif',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

/** The media type of a remote file from its extension (Gemini's `fileData` needs one). */
function mediaTypeOfUrl(url: string, fallback: string): string {
  const ext = /\.([a-z0-9]+)(?:[?#].*)?$/i.exec(url)?.[1]?.toLowerCase();
  return (ext && IMAGE_TYPES[ext]) ?? fallback;
}

/** One content part as Gemini parts (an empty text is no part). */
function partsOf(p: ContentPart): Json[] {
  if (p.type === 'text') return p.text === '' ? [] : [{ text: p.text }];
  const fallback = p.type === 'image' ? 'image/jpeg' : 'application/octet-stream';
  if (p.data !== undefined)
    return [{ inlineData: { mimeType: p.mediaType ?? fallback, data: p.data } }];
  if (p.url)
    return [
      { fileData: { mimeType: p.mediaType ?? mediaTypeOfUrl(p.url, fallback), fileUri: p.url } },
    ];
  return [];
}

/** A function's arguments (JSON text) as the object Gemini's `functionCall.args` is. */
function argsOf(call: { id: string; arguments: string }): Json {
  if (call.arguments.trim() === '') return {};
  const v = tryParse(call.arguments);
  if (!isObj(v))
    throw invalid(
      `The arguments of tool call '${call.id}' are not a JSON object; Gemini needs one.`,
      'messages',
    );
  return v;
}

/** A tool result as `functionResponse.response`, which must be an object. */
function responseOf(text: string): Json {
  const v = tryParse(text);
  if (isObj(v)) return v;
  // Google: the "output" key holds a function's output ("error" its error).
  return { output: v !== undefined ? v : text };
}

/**
 * The thought signatures of an earlier answer, where Gemini wants them back: a function call's
 * on that call (matched by the tool-call id the signature was returned with), any other on the
 * turn's first part.
 */
function signaturesOf(blocks: readonly ReasoningBlock[]): {
  byCall: Map<string, string>;
  loose: string[];
} {
  const byCall = new Map<string, string>();
  const loose: string[] = [];
  for (const b of blocks) {
    if (b.format !== undefined && b.format !== GEMINI_REASONING_FORMAT) continue;
    const signature = b.type === 'encrypted' ? b.data : b.signature;
    if (!signature) continue;
    if (b.id !== undefined && !byCall.has(b.id)) byCall.set(b.id, signature);
    else loose.push(signature);
  }
  return { byCall, loose };
}

function assistantParts(turn: Extract<Turn, { role: 'assistant' }>): Json[] {
  const parts: Json[] = [];
  for (const p of turn.parts) parts.push(...partsOf(p));
  if (turn.refusal) parts.push({ text: turn.refusal });
  const { byCall, loose } = signaturesOf(turn.reasoning);
  for (const call of turn.toolCalls) {
    const functionCall: Json = { name: call.name, args: argsOf(call) };
    if (!GENERATED_CALL_ID.test(call.id)) functionCall['id'] = call.id;
    const part: Json = { functionCall };
    const signature = byCall.get(call.id);
    if (signature) part['thoughtSignature'] = signature;
    parts.push(part);
  }
  const first = parts[0];
  if (first && loose.length > 0 && first['thoughtSignature'] === undefined)
    first['thoughtSignature'] = loose[0];
  return parts;
}

/** The function a tool result answers: the name of the earlier call with its id. */
function functionNameOf(model: ChatRequestModel, turn: Extract<Turn, { role: 'tool' }>): string {
  for (const t of model.turns) {
    if (t.role !== 'assistant') continue;
    const call = t.toolCalls.find((c) => c.id === turn.toolCallId);
    if (call) return call.name;
  }
  if (turn.name) return turn.name;
  throw invalid(
    `The tool message with tool_call_id '${turn.toolCallId}' answers no earlier tool call; Gemini matches results to calls by function name.`,
    'messages',
  );
}

/**
 * The `contents` of the conversation. Gemini's roles are `user` and `model`; tool results are
 * `functionResponse` parts of a `user` turn. Consecutive turns of one role are merged, so the
 * results of parallel calls answer them in one turn, as Gemini requires.
 */
export function contentsOf(model: ChatRequestModel): Json[] {
  const contents: { role: 'user' | 'model'; parts: Json[] }[] = [];
  const add = (role: 'user' | 'model', parts: Json[]) => {
    if (parts.length === 0) return;
    const last = contents[contents.length - 1];
    if (last && last.role === role) last.parts.push(...parts);
    else contents.push({ role, parts });
  };
  for (const turn of model.turns) {
    if (turn.role === 'user') {
      add('user', turn.parts.flatMap(partsOf));
    } else if (turn.role === 'assistant') {
      add('model', assistantParts(turn));
    } else {
      const text = turn.parts
        .filter((p) => p.type === 'text')
        .map((p) => p.text)
        .join('');
      const functionResponse: Json = {
        name: functionNameOf(model, turn),
        response: responseOf(text),
      };
      if (!GENERATED_CALL_ID.test(turn.toolCallId) && turn.toolCallId !== '')
        functionResponse['id'] = turn.toolCallId;
      add('user', [
        { functionResponse },
        ...turn.parts.filter((p) => p.type !== 'text').flatMap(partsOf),
      ]);
    }
  }
  return contents;
}

/** `systemInstruction`, or undefined without a system prompt. */
export function systemInstructionOf(model: ChatRequestModel): Json | undefined {
  const parts = model.system.filter((p) => p.text !== '').map((p) => ({ text: p.text }));
  return parts.length > 0 ? { parts } : undefined;
}

/** A function declaration; a schema with references goes as JSON Schema. */
export function functionDeclarationOf(tool: ToolSpec): Json {
  const out: Json = { name: tool.name };
  if (tool.description) out['description'] = tool.description;
  const params = tool.parameters;
  const empty =
    !isObj(params['properties']) ||
    (Object.keys(params['properties']).length === 0 && !usesReferences(params));
  if (usesReferences(params)) out['parametersJsonSchema'] = params;
  else if (!empty) out['parameters'] = toGeminiSchema(params);
  return out;
}

/** `tool_choice` as `toolConfig.functionCallingConfig`. */
export function toolConfigOf(choice: ToolChoice): Json {
  if (choice === 'auto') return { functionCallingConfig: { mode: 'AUTO' } };
  if (choice === 'none') return { functionCallingConfig: { mode: 'NONE' } };
  if (choice === 'required') return { functionCallingConfig: { mode: 'ANY' } };
  return { functionCallingConfig: { mode: 'ANY', allowedFunctionNames: [choice.name] } };
}

/** `response_format` as generation config fields. */
export function responseFormatConfig(format: ResponseFormat): Json {
  if (format.type === 'json_object') return { responseMimeType: 'application/json' };
  if (format.type === 'json_schema') {
    return usesReferences(format.schema)
      ? { responseMimeType: 'application/json', responseJsonSchema: format.schema }
      : {
          responseMimeType: 'application/json',
          responseSchema: toGeminiSchema(format.schema, { propertyOrdering: true }),
        };
  }
  return {};
}
