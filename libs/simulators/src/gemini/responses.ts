/** `GenerateContentResponse` objects, usage metadata and model resources, as Google writes them. */
import { createHash, randomBytes } from 'node:crypto';
import { assembleChoice, type ChoicePlan, type FinishReason } from '../core/plan.js';
import type { SimModel } from '../core/types.js';

type Obj = Record<string, unknown>;

/** Google's compact JSON style on the wire of a stream: `{"key": value,"key": value}`. */
export function googleJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(googleJson).join(',')}]`;
  if (typeof v === 'object' && v !== null)
    return `{${Object.entries(v)
      .filter(([, x]) => x !== undefined)
      .map(([k, x]) => `${JSON.stringify(k)}: ${googleJson(x)}`)
      .join(',')}}`;
  return JSON.stringify(v);
}

/** A response id like Google's (`qS77aMCqBu6mvr0PsJiykAw`). */
export const responseId = (): string => randomBytes(17).toString('base64url').slice(0, 23);

/** A thought signature: opaque bytes, stable for a given thought (base64). */
export function thoughtSignature(seed: string): string {
  const digest = createHash('sha256').update(seed).digest();
  return Buffer.concat([Buffer.from([0x0a, 0x24, 0x01]), digest, digest]).toString('base64');
}

export const GEMINI_FINISH: Readonly<Record<FinishReason, string>> = {
  stop: 'STOP',
  length: 'MAX_TOKENS',
  // Gemini says STOP when it answers with function calls.
  tool_calls: 'STOP',
};

export interface UsageCounts {
  prompt: number;
  candidates: number;
  thoughts: number;
  cached?: number | undefined;
}

/** `usageMetadata`: every count so far (Google repeats the totals on every stream event). */
export function usageMetadata(u: UsageCounts, vertex: boolean): Obj {
  const cached = u.cached !== undefined ? Math.min(u.cached, u.prompt) : 0;
  return {
    promptTokenCount: u.prompt,
    candidatesTokenCount: u.candidates,
    totalTokenCount: u.prompt + u.candidates + u.thoughts,
    ...(cached > 0 ? { cachedContentTokenCount: cached } : {}),
    promptTokensDetails: [{ modality: 'TEXT', tokenCount: u.prompt }],
    ...(cached > 0 ? { cacheTokensDetails: [{ modality: 'TEXT', tokenCount: cached }] } : {}),
    ...(u.thoughts > 0 ? { thoughtsTokenCount: u.thoughts } : {}),
    ...(vertex ? { trafficType: 'ON_DEMAND' } : {}),
  };
}

/** Counts of a whole answer: reasoning steps are thoughts, every other step a candidate token. */
export function countsOf(plans: readonly ChoicePlan[]): { candidates: number; thoughts: number } {
  let candidates = 0;
  let thoughts = 0;
  for (const p of plans)
    for (const s of p.steps) {
      if (s.kind === 'reasoning') thoughts++;
      else candidates++;
    }
  return { candidates, thoughts };
}

/** The arguments of a function call, when complete (a call cut by the output limit is not). */
export function argsOf(text: string): Obj | null {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Obj) : null;
  } catch {
    return null;
  }
}

/** The parts of a whole candidate (`generateContent`). */
export function candidateParts(plan: ChoicePlan, opts: { thoughts: boolean; seed: string }): Obj[] {
  const { content, toolCalls, reasoning } = assembleChoice(plan);
  const parts: Obj[] = [];
  if (opts.thoughts && reasoning !== '') parts.push({ text: reasoning, thought: true });
  if (plan.mode === 'text') {
    parts.push({ text: content ?? '' });
  } else {
    for (const c of toolCalls) {
      const args = argsOf(c.arguments);
      if (args) parts.push({ functionCall: { name: c.name, args } });
    }
  }
  // The signature of the thinking goes on the first part after the thoughts.
  const first = parts.find((p) => p['thought'] !== true);
  if (reasoning !== '' && first)
    first['thoughtSignature'] = thoughtSignature(opts.seed + reasoning);
  return parts;
}

/** A `Model` resource of `GET /v1beta/models`. */
export const modelResource = (m: SimModel): Obj => ({
  name: `models/${m.id}`,
  version: '001',
  displayName: m.id,
  description: 'A model of the Turnpike simulator, speaking the Gemini API.',
  inputTokenLimit: m.contextLength ?? 1_048_576,
  outputTokenLimit: 65_536,
  supportedGenerationMethods: ['generateContent', 'countTokens', 'streamGenerateContent'],
  temperature: 1,
  topP: 0.95,
  topK: 64,
  maxTemperature: 2,
  thinking: true,
});
