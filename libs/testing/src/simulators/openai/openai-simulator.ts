/**
 * An upstream simulator that speaks OpenAI's Chat Completions wire protocol.
 *
 *   const sim = await startOpenAISimulator({ apiKey: 'sk-sim', defaults: { ttftMs: 50 } });
 *   const client = new OpenAI({ baseURL: sim.url, apiKey: 'sk-sim' });
 *
 * Faults and timing are driven by knobs: simulator defaults, `x-sim-<key>` request headers, and
 * `[[sim key=value ...]]` directives in the last user message (see knobs.ts).
 */
import { SimulatorServer } from './server.js';
import type { OpenAISimulator, SimulatorOptions } from './types.js';

export type {
  CutMode,
  Knobs,
  OpenAISimulator,
  SimModel,
  SimOutcome,
  SimRequestRecord,
  SimulatorOptions,
} from './types.js';
export { DEFAULT_MODELS } from './server.js';
export { BASE_KNOBS, DIRECTIVE_KEYS, extractDirectives, KnobError } from './knobs.js';
export { expectedContent, FALLBACK_WORDS, promptWords } from './content.js';
export { countPromptTokens } from './chat-request.js';

export async function startOpenAISimulator(opts: SimulatorOptions = {}): Promise<OpenAISimulator> {
  return new SimulatorServer(opts).listen();
}
