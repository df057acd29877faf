/** Decides what each choice will say: text tokens or tool-call argument fragments. */
import type { SimChatRequest as ChatRequest } from './protocol.js';
import {
  instanceFromSchema,
  promptWords,
  PROSE_WORDS,
  splitArgumentFragments,
  splitOnWhitespace,
  textTokens,
  WordCursor,
} from './content.js';
import { toolCallId } from './ids.js';
import { toolCallNames } from './knobs.js';
import type { Knobs } from './types.js';

export type FinishReason = 'stop' | 'length' | 'tool_calls';

export interface ToolCallPlan {
  id: string;
  name: string;
  /** The complete arguments (the emitted part may be shorter when clipped). */
  arguments: string;
}

/** One token: a piece of reasoning, of content, or a fragment of a tool call's arguments. */
export type Step =
  | { kind: 'reasoning'; text: string }
  | { kind: 'content'; text: string }
  | { kind: 'tool'; call: number; text: string; first: boolean };

/** What the simulator "thinks" when thinking is asked for (before its answer). */
export const REASONING_WORDS: readonly string[] =
  'Let me think about this carefully before I answer the question.'.split(' ');

export interface ChoicePlan {
  index: number;
  mode: 'text' | 'tool_calls';
  /** Steps to emit, already clipped by max_tokens. */
  steps: Step[];
  toolCalls: ToolCallPlan[];
  finishReason: FinishReason;
}

/** The functions to call, or [] to answer with text. */
export function chooseToolCalls(req: ChatRequest, knobs: Knobs): string[] {
  if (req.tools.length === 0 || req.toolChoice === 'none') return [];
  if (typeof req.toolChoice === 'object') return [req.toolChoice.name];
  const requested = toolCallNames(knobs);
  if (requested.length > 0) return requested;
  if (req.toolChoice === 'required') return [req.tools[0]?.name ?? 'function'];
  return [];
}

function contentSteps(
  req: ChatRequest,
  knobs: Knobs,
  words: string[],
  choiceIndex: number,
): Step[] {
  const n = knobs.completionTokens;
  const format = req.responseFormat;
  let tokens: string[];
  if (format.type === 'text') {
    tokens = textTokens(words, n, choiceIndex);
  } else {
    const value =
      format.type === 'json_object'
        ? { text: textTokens(words, Math.max(1, n), choiceIndex).join('') }
        : instanceFromSchema(format.schema, new WordCursor(words, choiceIndex), n);
    tokens = splitOnWhitespace(JSON.stringify(value));
  }
  return tokens.map((text) => ({ kind: 'content', text }));
}

function toolSteps(
  req: ChatRequest,
  knobs: Knobs,
  words: string[],
  names: string[],
  choiceIndex: number,
) {
  const calls: ToolCallPlan[] = [];
  const steps: Step[] = [];
  names.forEach((name, call) => {
    const tool = req.tools.find((t) => t.name === name);
    const schema = tool?.parameters ?? { type: 'object', properties: {} };
    const args = JSON.stringify(
      instanceFromSchema(schema, new WordCursor(words, choiceIndex + call), knobs.completionTokens),
    );
    calls.push({ id: toolCallId(), name, arguments: args });
    splitArgumentFragments(args).forEach((text, i) =>
      steps.push({ kind: 'tool', call, text, first: i === 0 }),
    );
  });
  return { calls, steps };
}

/** Reasoning tokens first when thinking was asked for: the words above, within the budget. */
function reasoningSteps(req: ChatRequest): Step[] {
  if (!req.reasoning) return [];
  const n = Math.min(REASONING_WORDS.length, req.reasoning.budgetTokens ?? REASONING_WORDS.length);
  return textTokens(REASONING_WORDS, n).map((text) => ({ kind: 'reasoning', text }));
}

export function planCompletion(req: ChatRequest, knobs: Knobs): ChoicePlan[] {
  const words = knobs.text === 'prose' ? [...PROSE_WORDS] : promptWords(req.lastUserText);
  const toolNames = chooseToolCalls(req, knobs);
  return Array.from({ length: req.n }, (_, index): ChoicePlan => {
    const tool = toolNames.length > 0 ? toolSteps(req, knobs, words, toolNames, index) : undefined;
    const all = [
      ...reasoningSteps(req),
      ...(tool ? tool.steps : contentSteps(req, knobs, words, index)),
    ];
    const clipped = req.maxTokens !== undefined && all.length > req.maxTokens;
    const steps = clipped ? all.slice(0, req.maxTokens) : all;
    const toolCalls = tool
      ? tool.calls.filter((_c, i) => steps.some((s) => s.kind === 'tool' && s.call === i))
      : [];
    return {
      index,
      mode: tool ? 'tool_calls' : 'text',
      steps,
      toolCalls,
      finishReason: clipped ? 'length' : tool ? 'tool_calls' : 'stop',
    };
  });
}

/** What a choice says once all its steps are emitted (the non-streaming message). */
export function assembleChoice(plan: ChoicePlan): {
  content: string | null;
  toolCalls: ToolCallPlan[];
  reasoning: string;
} {
  const reasoning = plan.steps
    .filter((s) => s.kind === 'reasoning')
    .map((s) => s.text)
    .join('');
  if (plan.mode === 'text') {
    const content = plan.steps
      .filter((s) => s.kind === 'content')
      .map((s) => s.text)
      .join('');
    return { content, toolCalls: [], reasoning };
  }
  const toolCalls = plan.toolCalls.map((c, i) => ({
    ...c,
    arguments: plan.steps
      .filter((s) => s.kind === 'tool' && s.call === i)
      .map((s) => s.text)
      .join(''),
  }));
  return { content: null, toolCalls, reasoning };
}
