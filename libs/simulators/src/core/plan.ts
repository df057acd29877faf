/** Decides what each choice will say: reasoning, then text tokens or tool-call argument fragments. */
import {
  argumentFragments,
  boundedText,
  continuationTokenStream,
  instanceFromSchema,
  promptWords,
  PROSE_WORDS,
  textTokens,
  textTokenStream,
  whitespaceTokens,
  WordCursor,
} from './content.js';
import { toolCallId } from './ids.js';
import { toolCallNames } from './knobs.js';
import { ChoiceBudget } from './limits.js';
import type { SimChatRequest as ChatRequest } from './protocol.js';
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

/** Steps taken from `tokens` while the choice's budget lasts; clipped when tokens were left. */
function takeSteps<S extends Step>(
  tokens: Iterable<string>,
  budget: ChoiceBudget,
  toStep: (text: string, i: number) => S,
): { steps: S[]; clipped: boolean } {
  const steps: S[] = [];
  for (const text of tokens) {
    if (!budget.spend(text)) return { steps, clipped: true };
    steps.push(toStep(text, steps.length));
  }
  return { steps, clipped: false };
}

function contentSteps(
  req: ChatRequest,
  knobs: Knobs,
  words: string[],
  choiceIndex: number,
  budget: ChoiceBudget,
): { steps: Step[]; clipped: boolean } {
  const format = req.responseFormat;
  let tokens: Iterable<string>;
  if (format.type === 'text') {
    tokens =
      req.prefill !== undefined && req.prefill.trim() !== ''
        ? continuationTokenStream(
            words,
            knobs.completionTokens,
            req.prefill,
            knobs.prefillRepeat ?? 0,
            choiceIndex,
          )
        : textTokenStream(words, knobs.completionTokens, choiceIndex);
  } else {
    // Never more words than the choice may say: the JSON around them only adds tokens.
    const n = Math.min(knobs.completionTokens, budget.tokens);
    const value =
      format.type === 'json_object'
        ? { text: boundedText(words, Math.max(1, n), choiceIndex, budget.chars) }
        : instanceFromSchema(format.schema, new WordCursor(words, choiceIndex), n, budget.chars);
    tokens = whitespaceTokens(JSON.stringify(value));
  }
  return takeSteps(tokens, budget, (text): Step => ({ kind: 'content', text }));
}

function toolSteps(
  req: ChatRequest,
  knobs: Knobs,
  words: string[],
  names: string[],
  choiceIndex: number,
  budget: ChoiceBudget,
): { calls: ToolCallPlan[]; steps: Step[]; clipped: boolean } {
  const calls: ToolCallPlan[] = [];
  const steps: Step[] = [];
  for (const [call, name] of names.entries()) {
    const tool = req.tools.find((t) => t.name === name);
    const schema = tool?.parameters ?? { type: 'object', properties: {} };
    const args = JSON.stringify(
      instanceFromSchema(
        schema,
        new WordCursor(words, choiceIndex + call),
        Math.min(knobs.completionTokens, budget.tokens),
        budget.chars,
      ),
    );
    calls.push({ id: toolCallId(), name, arguments: args });
    const taken = takeSteps(argumentFragments(args), budget, (text, i): Step => ({
      kind: 'tool',
      call,
      text,
      first: i === 0,
    }));
    steps.push(...taken.steps);
    if (taken.clipped) return { calls, steps, clipped: true };
  }
  return { calls, steps, clipped: false };
}

/** Reasoning tokens first when thinking was asked for: the words above, within the budget. */
function reasoningSteps(
  req: ChatRequest,
  budget: ChoiceBudget,
): { steps: Step[]; clipped: boolean } {
  if (!req.reasoning) return { steps: [], clipped: false };
  const n = Math.min(REASONING_WORDS.length, req.reasoning.budgetTokens ?? REASONING_WORDS.length);
  return takeSteps(textTokens(REASONING_WORDS, n), budget, (text): Step => ({
    kind: 'reasoning',
    text,
  }));
}

/**
 * Plans every choice. What a choice says is bounded by `max_tokens`/`max_completion_tokens` and
 * by {@link OUTPUT_LIMITS} (its share of the request's tokens and characters): tokens are made
 * only as they are taken, and a choice that had more to say ends with `finish_reason: "length"`.
 */
export function planCompletion(req: ChatRequest, knobs: Knobs): ChoicePlan[] {
  const words = knobs.text === 'prose' ? [...PROSE_WORDS] : promptWords(req.lastUserText);
  const toolNames = chooseToolCalls(req, knobs);
  return Array.from({ length: req.n }, (_, index): ChoicePlan => {
    const budget = ChoiceBudget.forChoice(req.n, req.maxTokens);
    const thought = reasoningSteps(req, budget);
    const tool =
      toolNames.length > 0 && !thought.clipped
        ? toolSteps(req, knobs, words, toolNames, index, budget)
        : undefined;
    const answer = thought.clipped
      ? { steps: [], clipped: true }
      : (tool ?? contentSteps(req, knobs, words, index, budget));
    const steps = [...thought.steps, ...answer.steps];
    const clipped = answer.clipped;
    const called = new Set(steps.map((s) => (s.kind === 'tool' ? s.call : -1)));
    return {
      index,
      mode: tool ? 'tool_calls' : 'text',
      steps,
      toolCalls: tool ? tool.calls.filter((_c, i) => called.has(i)) : [],
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
