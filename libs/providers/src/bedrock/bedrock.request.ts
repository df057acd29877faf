/**
 * The Converse request (`POST /model/{modelId}/converse` and `/converse-stream`) built from the
 * neutral chat request: system blocks, alternating user/assistant messages of content blocks,
 * tool configuration, inference settings and the model-specific `additionalModelRequestFields`.
 *
 * - `system` / `developer` messages → `system: [{text}]`; a `cache_control` on a part adds a
 *   `cachePoint` block after it (also after message parts and tools).
 * - Converse wants strictly alternating roles that start with `user`: tool results are `user`
 *   messages of `toolResult` blocks, and consecutive turns of one role merge into one message.
 * - Images: inline `data:` URLs → `image: {format, source: {bytes}}` (base64 in JSON), `s3://`
 *   URIs → `source: {s3Location}`; Converse cannot fetch `https://` images (refused, so another
 *   endpoint may serve it). Files → `document` blocks.
 * - Tool call ids must match `[a-zA-Z0-9_-]{1,64}`: others are mapped to a stable valid id, the
 *   same in the `toolUse` and its `toolResult`.
 * - Earlier reasoning goes back as `reasoningContent` (signed text, or redacted data) for Claude
 *   models, whose extended thinking requires it.
 * - A trailing assistant message is continued (prefill); Claude refuses one ending in whitespace,
 *   so it is trimmed at the end.
 * - Converse has no JSON mode: `response_format` becomes a forced tool whose input schema is the
 *   requested schema (`{type: 'object'}` for `json_object`), and its call is mapped back to the
 *   message content (`structuredOutputTool`, the decoder and `parseCompletion`). It takes
 *   precedence over `tool_choice` (the client's tools stay offered, not chosen). Converse's newer
 *   native `outputConfig.textFormat` is left aside: only some models take it.
 */
import { createHash } from 'node:crypto';
import { RequestMappingError } from '../core/param-map.js';
import { isObj, type Json } from '../core/json.js';
import type {
  ChatRequestModel,
  ContentPart,
  ImagePart,
  FilePart,
  ReasoningBlock,
  ResponseFormat,
  ToolSpec,
  Turn,
} from '../core/request-model.js';

export interface ConverseMessage extends Json {
  role: 'user' | 'assistant';
  content: Json[];
}

/** The Converse request body (the model id travels in the URL). */
export interface ConverseRequest extends Json {
  messages: ConverseMessage[];
  system?: Json[];
  inferenceConfig?: Json;
  toolConfig?: { tools: Json[]; toolChoice?: Json };
  additionalModelRequestFields?: Json;
}

/** The reasoning format of Claude's signed thinking (OpenRouter's `reasoning_details.format`). */
export const CLAUDE_REASONING_FORMAT = 'anthropic-claude-v1';

/**
 * Whether a Bedrock model id names an Anthropic Claude model: a base model
 * (`anthropic.claude-...`), a cross-region inference profile (`us.anthropic.claude-...`) or an
 * ARN of either.
 */
export const isClaudeModel = (modelId: string): boolean =>
  /(^|[./:])anthropic\.claude/i.test(modelId);

/** Amazon Nova models take sampling extras under `inferenceConfig` of the extra fields. */
export const isNovaModel = (modelId: string): boolean => /(^|[./:])amazon\.nova/i.test(modelId);

export const reasoningFormatOf = (modelId: string): string =>
  isClaudeModel(modelId) ? CLAUDE_REASONING_FORMAT : 'unknown';

const CACHE_POINT: Json = { cachePoint: { type: 'default' } };

/** A request the provider cannot express: 400, but another endpoint may serve it. */
function unsupportedContent(message: string): RequestMappingError {
  return new RequestMappingError({
    status: 400,
    type: 'invalid_request_error',
    message,
    code: 'unsupported_content',
    param: 'messages',
    retryable: true,
    upstreamStatus: null,
    retryAfterSec: null,
  });
}

const IMAGE_FORMATS: Readonly<Record<string, string>> = {
  'image/png': 'png',
  'image/jpeg': 'jpeg',
  'image/jpg': 'jpeg',
  'image/gif': 'gif',
  'image/webp': 'webp',
};

const DOCUMENT_FORMATS: Readonly<Record<string, string>> = {
  'application/pdf': 'pdf',
  'text/csv': 'csv',
  'application/msword': 'doc',
  'application/vnd.openxmlformats-officedocument.wordprocessingml.document': 'docx',
  'application/vnd.ms-excel': 'xls',
  'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet': 'xlsx',
  'text/html': 'html',
  'text/plain': 'txt',
  'text/markdown': 'md',
};

const extensionOf = (uri: string): string =>
  (/\.([A-Za-z0-9]+)(?:[?#].*)?$/.exec(uri)?.[1] ?? '').toLowerCase();

function imageBlock(p: ImagePart): Json {
  if (p.data !== undefined) {
    const format = IMAGE_FORMATS[(p.mediaType ?? '').toLowerCase()];
    if (!format)
      throw unsupportedContent(
        `Bedrock takes png, jpeg, gif and webp images, not '${p.mediaType ?? 'unknown'}'.`,
      );
    return { image: { format, source: { bytes: p.data } } };
  }
  const url = p.url ?? '';
  if (url.startsWith('s3://')) {
    const ext = extensionOf(url);
    const format = ext === 'jpg' ? 'jpeg' : ext;
    if (!Object.values(IMAGE_FORMATS).includes(format))
      throw unsupportedContent(`Cannot tell the image format of '${url}' (png, jpeg, gif, webp).`);
    return { image: { format, source: { s3Location: { uri: url } } } };
  }
  throw unsupportedContent(
    'Bedrock Converse takes images as inline data (data: URLs) or S3 URIs; it does not fetch image URLs.',
  );
}

function documentBlock(p: FilePart, names: Set<string>): Json {
  const format =
    DOCUMENT_FORMATS[(p.mediaType ?? '').toLowerCase()] ??
    (p.filename ? extensionOf(p.filename) : '');
  if (!Object.values(DOCUMENT_FORMATS).includes(format) || p.data === undefined) {
    throw unsupportedContent(
      'Bedrock Converse takes inline documents (pdf, csv, doc, docx, xls, xlsx, html, txt, md).',
    );
  }
  // Names: alphanumerics, single spaces, hyphens, parentheses and brackets; unique per request.
  const base =
    (p.filename ?? '')
      .replace(/\.[^.]*$/, '')
      .replace(/[^A-Za-z0-9\s\-()[\]]/g, ' ')
      .replace(/\s+/g, ' ')
      .trim() || 'document';
  let name = base;
  for (let i = 2; names.has(name); i++) name = `${base} (${i})`;
  names.add(name);
  return { document: { format, name, source: { bytes: p.data } } };
}

/** A valid `toolUseId` for any OpenAI tool call id, the same every time. */
export function toolUseIdOf(id: string): string {
  if (/^[A-Za-z0-9_-]{1,64}$/.test(id)) return id;
  return `tooluse_${createHash('sha256').update(id).digest('hex').slice(0, 32)}`;
}

function contentBlocks(parts: readonly ContentPart[], names: Set<string>): Json[] {
  const out: Json[] = [];
  for (const p of parts) {
    if (p.type === 'text') {
      if (p.text !== '') out.push({ text: p.text });
    } else if (p.type === 'image') {
      out.push(imageBlock(p));
    } else {
      out.push(documentBlock(p, names));
    }
    if ('cacheControl' in p && p.cacheControl !== undefined) out.push(CACHE_POINT);
  }
  return out;
}

/** A tool result's content: a JSON object stays JSON, other text stays text; images pass. */
function toolResultContent(parts: readonly ContentPart[], names: Set<string>): Json[] {
  const texts = parts.filter((p) => p.type === 'text');
  if (texts.length === 1 && parts.length === 1) {
    const t = texts[0]!.text.trim();
    if (t.startsWith('{')) {
      try {
        const v = JSON.parse(t) as unknown;
        if (isObj(v)) return [{ json: v }];
      } catch {
        // not JSON: text
      }
    }
  }
  const blocks = contentBlocks(parts, names).filter((b) => !('cachePoint' in b));
  return blocks.length > 0 ? blocks : [{ text: '(empty)' }];
}

function reasoningBlocks(blocks: readonly ReasoningBlock[]): Json[] {
  const out: Json[] = [];
  for (const r of blocks) {
    if (r.format !== undefined && r.format !== CLAUDE_REASONING_FORMAT) continue;
    if (r.type === 'text' && r.signature && r.text !== undefined) {
      out.push({ reasoningContent: { reasoningText: { text: r.text, signature: r.signature } } });
    } else if (r.type === 'encrypted' && r.data) {
      out.push({ reasoningContent: { redactedContent: r.data } });
    }
  }
  return out;
}

function toolUseBlock(call: { id: string; name: string; arguments: string }): Json {
  let input: unknown;
  try {
    input = call.arguments.trim() === '' ? {} : (JSON.parse(call.arguments) as unknown);
  } catch {
    throw unsupportedContent(
      `The arguments of tool call '${call.id}' are not valid JSON; Bedrock needs them as a JSON object.`,
    );
  }
  return { toolUse: { toolUseId: toolUseIdOf(call.id), name: call.name, input } };
}

/** The messages of a conversation, roles alternating (consecutive turns of a role merged). */
export function converseMessages(turns: readonly Turn[], modelId: string): ConverseMessage[] {
  const out: ConverseMessage[] = [];
  const names = new Set<string>();
  const push = (role: 'user' | 'assistant', blocks: Json[]) => {
    if (blocks.length === 0) return;
    const last = out[out.length - 1];
    if (last && last.role === role) last.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  const claude = isClaudeModel(modelId);
  for (const t of turns) {
    if (t.role === 'user') push('user', contentBlocks(t.parts, names));
    else if (t.role === 'tool') {
      push('user', [
        {
          toolResult: {
            toolUseId: toolUseIdOf(t.toolCallId),
            content: toolResultContent(t.parts, names),
          },
        },
      ]);
    } else {
      push('assistant', [
        ...(claude ? reasoningBlocks(t.reasoning) : []),
        ...contentBlocks(t.parts, names),
        ...(t.refusal ? [{ text: t.refusal }] : []),
        ...t.toolCalls.map(toolUseBlock),
      ]);
    }
  }
  // Prefill: the model continues a trailing assistant message, which may not end in whitespace.
  const last = out[out.length - 1];
  if (last?.role === 'assistant') {
    const end = last.content[last.content.length - 1];
    if (end && typeof end['text'] === 'string') {
      const trimmed = end['text'].trimEnd();
      if (trimmed === '') last.content.pop();
      else end['text'] = trimmed;
      if (last.content.length === 0) out.pop();
    }
  }
  return out;
}

export function systemBlocks(model: ChatRequestModel): Json[] {
  const out: Json[] = [];
  for (const p of model.system) {
    if (p.text !== '') out.push({ text: p.text });
    if (p.cacheControl !== undefined) out.push(CACHE_POINT);
  }
  return out;
}

export function toolSpecs(tools: readonly ToolSpec[]): Json[] {
  const out: Json[] = [];
  for (const t of tools) {
    out.push({
      toolSpec: {
        name: t.name,
        ...(t.description ? { description: t.description } : {}),
        inputSchema: { json: t.parameters },
      },
    });
    if (t.cacheControl !== undefined) out.push(CACHE_POINT);
  }
  return out;
}

export interface StructuredOutputTool {
  name: string;
  description: string;
  schema: Json;
}

const TOOL_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * The tool that carries a `response_format` (Converse has no JSON mode), or null. Its name is
 * the schema's name when that is a valid tool name no user tool has, else `json_response`.
 */
export function structuredOutputTool(model: ChatRequestModel): StructuredOutputTool | null {
  const rf: ResponseFormat | undefined = model.responseFormat;
  if (!rf || rf.type === 'text') return null;
  const taken = new Set(model.tools.map((t) => t.name));
  const free = (n: string) => TOOL_NAME.test(n) && !taken.has(n);
  let name = rf.type === 'json_schema' && free(rf.name) ? rf.name : 'json_response';
  for (let i = 2; !free(name); i++) name = `json_response_${i}`;
  if (rf.type === 'json_object') {
    return {
      name,
      description: 'Answer with a JSON object: call this tool with the object as its input.',
      schema: { type: 'object' },
    };
  }
  return {
    name,
    description:
      rf.description ??
      'Answer with a JSON value that matches this schema: call this tool with it as its input.',
    schema: rf.schema,
  };
}

/** Whether the conversation holds tool calls or results (Converse then needs a toolConfig). */
export const hasToolBlocks = (messages: readonly ConverseMessage[]): boolean =>
  messages.some((m) => m.content.some((b) => 'toolUse' in b || 'toolResult' in b));

/**
 * Tool specs for the tools the conversation used but the request no longer declares (Converse
 * refuses `toolUse`/`toolResult` blocks without a `toolConfig` naming them).
 */
export function historyToolSpecs(model: ChatRequestModel, declared: ReadonlySet<string>): Json[] {
  const names = new Set<string>();
  for (const t of model.turns)
    if (t.role === 'assistant') for (const c of t.toolCalls) names.add(c.name);
  return [...names]
    .filter((n) => !declared.has(n) && TOOL_NAME.test(n))
    .map((name) => ({
      toolSpec: {
        name,
        description: 'A tool used earlier in this conversation.',
        inputSchema: { json: { type: 'object', properties: {} } },
      },
    }));
}
