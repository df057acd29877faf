/**
 * An upstream simulator that speaks OpenAI's Chat Completions wire protocol.
 *
 *   const sim = await startOpenAISimulator({ apiKey: 'sk-sim', defaults: { ttftMs: 50 } });
 *   const client = new OpenAI({ baseURL: sim.url, apiKey: 'sk-sim' });
 *
 * Faults and timing are driven by knobs: simulator defaults, `x-sim-<key>` request headers, and
 * `[[sim key=value ...]]` directives in the last user message (see knobs.ts).
 */
import { SimulatorServer } from '../core/server.js';
import type { OpenAISimulator, SimulatorOptions } from '../core/types.js';
import { openaiProtocol } from './protocol.js';

export type {
  CutMode,
  Knobs,
  OpenAISimulator,
  SimModel,
  SimOutcome,
  SimRequestRecord,
  SimulatorOptions,
} from '../core/types.js';
export { DEFAULT_MODELS } from '../core/server.js';
export { BASE_KNOBS, DIRECTIVE_KEYS, extractDirectives, KnobError } from '../core/knobs.js';
export { expectedContent, FALLBACK_WORDS, promptWords } from '../core/content.js';
export { countPromptTokens } from './chat-request.js';

export async function startOpenAISimulator(opts: SimulatorOptions = {}): Promise<OpenAISimulator> {
  return new SimulatorServer(openaiProtocol(opts.name ?? 'openai-sim'), opts).listen();
}
